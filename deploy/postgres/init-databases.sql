-- One role and one database per service, each owned by its service (dev only: password = name).
-- Run by the postgres image's entrypoint from /docker-entrypoint-initdb.d on an empty data
-- directory only; after changing this file, reset with `docker compose down -v`.
CREATE ROLE identity LOGIN PASSWORD 'identity';
CREATE DATABASE identity OWNER identity;

CREATE ROLE registration LOGIN PASSWORD 'registration';
CREATE DATABASE registration OWNER registration;

CREATE ROLE recognition LOGIN PASSWORD 'recognition';
CREATE DATABASE recognition OWNER recognition;

CREATE ROLE attestation LOGIN PASSWORD 'attestation';
CREATE DATABASE attestation OWNER attestation;

CREATE ROLE notification LOGIN PASSWORD 'notification';
CREATE DATABASE notification OWNER notification;

-- The portal's own database: its sessions only (it reads every service through its public API).
CREATE ROLE portal LOGIN PASSWORD 'portal';
CREATE DATABASE portal OWNER portal;
