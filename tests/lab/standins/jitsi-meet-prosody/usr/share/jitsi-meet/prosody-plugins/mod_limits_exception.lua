-- Lab stand-in of Jitsi's mod_limits_exception: sessions of the accounts listed in the
-- global "unlimited_jids" are not throttled by mod_limits (reference/jitsi-packages.md 2.3).
-- Written for the jvb-join lab from the described behaviour; loaded on auth.DOMAIN.
local unlimited_jids = module:get_option_inherited_set("unlimited_jids", {});

module:hook("authentication-success", function (event)
    local session = event.session;
    if not (session.username and session.host) then return; end
    if not unlimited_jids:contains(session.username .. "@" .. session.host) then return; end
    -- mod_limits meters reads through session.throttle (or the connection's own limit).
    session.throttle = nil;
    if session.conn and session.conn.setlimit then
        session.conn:setlimit(0);
    end
    module:log("debug", "Rate limits lifted for %s", session.username .. "@" .. session.host);
end, 1);
