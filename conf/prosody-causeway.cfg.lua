-- Prosody snippet for Causeway (add to prosody.cfg.lua, then `prosodyctl reload`).
-- component_ports and the secrets must match conf/causeway.conf.

component_ports = { 5347 }
component_interface = "127.0.0.1"

-- Optional but recommended: XEP-0356 lets Causeway put contacts straight into
-- rosters (Debian: apt install prosody-modules). Without it, contacts arrive as
-- subscription requests the user accepts.
VirtualHost "example.org"
    modules_enabled = { "privilege" }
    privileged_entities = {
        ["loop.example.org"] = { roster = "both"; message = "outgoing"; presence = "roster" };
    }

Component "loop.example.org"
    component_secret = "change-me-loop"
    modules_enabled = { "privilege" }
