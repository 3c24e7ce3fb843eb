-- res_pjsip RealTime contacts: the ps_contacts table as Asterisk's alembic
-- migrations (contrib/ast-db-manage, "config" branch) leave it at their head
-- 2285f2ace275 (2026-06-03). The table last changed in revision 44bd6dd914fa
-- (2024-12-02, qualify_2xx_only); before it, 74dc751dfe8e (2024-02-27) made
-- authenticate_qualify and prune_on_boot Asterisk booleans, dac2b4c328b8
-- (2023-09-23) widened endpoint and outbound_proxy to 255, 1ae0609b6646
-- (2020-08-31) reg_server to 255, 1d3ed26d9978 (2018-08-23) uri to 511.
--
-- res_pjsip inserts one row per registered contact, updates
-- expiration_time on every refresh and deletes the row on unregistration or
-- expiry. id is "AOR;@hash", stored "AOR^3B@hash" through res_config_odbc
-- and res_config_mysql (they write ';' as ^3B and '^' as ^5E in every value,
-- URIs too, and undo it when they read; so does dundid): dundid takes the AOR
-- as the extension (the endpoint column when the AOR part is empty). dundid needs id, uri and
-- expiration_time, and uses endpoint, reg_server (Asterisk's systemname),
-- via_addr, via_port and user_agent when the table has them (older
-- revisions lack some); it ignores the other columns.
CREATE TABLE ps_contacts (
    id VARCHAR(255),
    uri VARCHAR(511),
    expiration_time BIGINT,
    qualify_frequency INTEGER,
    outbound_proxy VARCHAR(255),
    path TEXT,
    user_agent VARCHAR(255),
    qualify_timeout FLOAT,
    reg_server VARCHAR(255),
    authenticate_qualify ENUM('0','1','off','on','false','true','no','yes'),
    via_addr VARCHAR(40),
    via_port INTEGER,
    call_id VARCHAR(255),
    endpoint VARCHAR(255),
    prune_on_boot ENUM('0','1','off','on','false','true','no','yes'),
    qualify_2xx_only ENUM('0','1','off','on','false','true','no','yes'),
    UNIQUE (id),
    CONSTRAINT ps_contacts_uq UNIQUE (id, reg_server)
);

CREATE INDEX ps_contacts_id ON ps_contacts (id);
CREATE INDEX ps_contacts_qualifyfreq_exp ON ps_contacts (qualify_frequency, expiration_time);
