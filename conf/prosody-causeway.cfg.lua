-- Prosody snippet for Causeway. Tested with Debian bookworm's Prosody 0.12 and
-- prosody-modules (tests/e2e/test_server_configs.py uses this file as it is:
-- the part before the first VirtualHost line in the global section of a
-- prosody.cfg.lua, the rest at its end). Restart Prosody afterwards
-- (`systemctl restart prosody`).
-- The domains and secrets must match conf/causeway.conf's [transport:NAME]
-- sections (domain, secret), the port its [xmpp] port.

-- The component listener (XEP-0114). These two options are global: put them
-- in the global part of prosody.cfg.lua, before its first VirtualHost line
-- (after a VirtualHost or Component line an option belongs to that host and
-- is ignored: Prosody listens on its default 5347; `prosodyctl check config`
-- names misplaced options). Keep it on loopback unless Causeway runs on
-- another machine.
component_ports = { 5347 }
component_interfaces = { "127.0.0.1" }

-- Optional but recommended: XEP-0356 (mod_privilege, Debian: apt install
-- prosody-modules) lets Causeway put contacts straight into its users' rosters;
-- without it contacts arrive as subscription requests the user accepts.
-- Causeway uses the roster permission only ("both": set to push contacts, get
-- to read the group a user gave a new contact); grant nothing else.
-- The grant is set on the users' VirtualHost, keyed by each gateway's domain.
-- This adds to an existing VirtualHost "example.org" block; if that block sets
-- its own modules_enabled, add "privilege" to that list instead.
VirtualHost "example.org"
    modules_enabled = { "privilege" }
    privileged_entities = {
        ["loop.example.org"] = { roster = "both" };
        -- ["irc.example.org"] = { roster = "both" };
    }

-- One Component per [transport:NAME] section. Components do not inherit the
-- global modules: mod_privilege must be enabled on each one too (it sends the
-- grant from there).
Component "loop.example.org"
    component_secret = "change-me-loop"
    modules_enabled = { "privilege" }

-- Component "irc.example.org"
--     component_secret = "change-me-irc"
--     modules_enabled = { "privilege" }
