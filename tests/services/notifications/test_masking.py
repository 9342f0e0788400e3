"""Contact data masked for listings, logs and stored provider errors."""

from esign.masking import mask_contacts_in, mask_email, mask_mobile, mask_recipient


def test_masks():
    assert mask_email("ayse.yilmaz@ornek.edu.tr") == "a***@ornek.edu.tr"
    assert mask_mobile("+905321234567") == "+90 5** *** ** 67"
    assert mask_recipient("+905321234567") == "+90 5** *** ** 67" and mask_recipient("b@x.tr") == "b***@x.tr"


def test_contacts_inside_a_provider_error_are_masked():
    text = "550 5.1.1 <ayse@ornek.edu.tr>: mailbox unavailable; number 905321234567 invalid"
    assert (
        mask_contacts_in(text) == "550 5.1.1 <a***@ornek.edu.tr>: mailbox unavailable; number +90 5** *** ** 67 invalid"
    )
