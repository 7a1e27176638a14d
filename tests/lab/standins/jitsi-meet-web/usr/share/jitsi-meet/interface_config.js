/* eslint-disable no-unused-vars, no-var, max-len */
/* Lab stand-in of jitsi-meet-web's interface_config.js: a few of the real keys. */

var interfaceConfig = {
    APP_NAME: 'Jitsi Meet',
    DEFAULT_BACKGROUND: '#040404',
    DEFAULT_LOCAL_DISPLAY_NAME: 'me',
    DEFAULT_REMOTE_DISPLAY_NAME: 'Fellow Jitster',
    DISABLE_VIDEO_BACKGROUND: false,
    FILM_STRIP_MAX_HEIGHT: 120,
    JITSI_WATERMARK_LINK: 'https://jitsi.org',
    SHOW_JITSI_WATERMARK: true,
    TILE_VIEW_MAX_COLUMNS: 5,
    VIDEO_LAYOUT_FIT: 'both'
};
