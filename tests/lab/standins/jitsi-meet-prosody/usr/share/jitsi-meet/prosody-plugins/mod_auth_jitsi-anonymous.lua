-- Lab stand-in of Jitsi's mod_auth_jitsi-anonymous, the authentication of the meet VirtualHost
-- (authentication = "jitsi-anonymous"). Written for the jvb-join lab (FIDELITY.md): SASL
-- ANONYMOUS for anyone, with a fresh random account name per session and no stored accounts,
-- as prosody's own anonymous provider. The upstream module's session resumption under the same
-- random name (smacks "previd") is not modelled.
module:depends("jitsi_session");

local new_sasl = require "util.sasl".new;

local provider = {};

function provider.test_password()
    return nil, "Password based auth not supported";
end

function provider.get_password()
    return nil;
end

function provider.set_password()
    return nil, "Set password not supported";
end

function provider.user_exists()
    return nil;
end

function provider.create_user()
    return nil;
end

function provider.delete_user()
    return nil;
end

function provider.get_sasl_handler()
    -- util.sasl's ANONYMOUS mechanism draws the random name and asks this profile to accept it
    return new_sasl(module.host, {
        anonymous = function ()
            return true;
        end;
    });
end

module:provides("auth", provider);
