"""Every query of the tracking service, one module per aggregate or record kind, each repository on
``esign.repository``'s base: shipments (the aggregate, registered for its events), the carriers'
raw events, and the webhook replay receipts."""
