-- One PostgreSQL for the local stack, a database per service (each service owns its own).
CREATE DATABASE esign_applications;
CREATE DATABASE esign_notifications;
CREATE DATABASE esign_tracking;
