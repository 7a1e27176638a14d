/* eslint-disable comma-dangle, no-unused-vars, no-var, prefer-template, vars-on-top */

/*
 * Lab stand-in of jitsi-meet's config.js (jitsi-meet-web-config copies it to
 * /etc/jitsi/meet/DOMAIN-config.js): the options and their layout as upstream ships
 * them, commented out or set, with the comments in the stand-in's own words.
 */

var subdir = '<!--# echo var="subdir" default="" -->';
var subdomain = '<!--# echo var="subdomain" default="" -->';

if (subdomain) {
    subdomain = subdomain.substr(0, subdomain.length - 1).split('.')
        .join('_')
        .toLowerCase() + '.';
}

// Without SSI from the web server the placeholders above stay as they are: use ''.
if (subdir.startsWith('<!--')) {
    subdir = '';
}
if (subdomain.startsWith('<!--')) {
    subdomain = '';
}

var enableJaaS = false;

var config = {
    // Where the client finds the XMPP server: the main domain and the MUC of the rooms.

    hosts: {
        // The XMPP domain of guests and of the web client.
        domain: 'jitsi-meet.example.com',

        // Uncomment anonymousdomain and change the value to use it.
        // The value shown is a usual one, not necessarily the default.
        // anonymousdomain: 'guest.example.com',

        // Setting for authdomain; see the handbook's configuration page.
        // authdomain: 'jitsi-meet.example.com',

        // Read by the web client (and by the mobile apps where they support focus).
        // focus: 'focus.jitsi-meet.example.com',

        // Leave muc out to keep the behaviour the client is built with.
        // Careful, it's a JS object, not JSON -- 'single', "double" and `back` quotes all occur.
        muc: 'conference.' + subdomain + 'jitsi-meet.example.com',
    },

    // BOSH address of prosody as nginx serves it (a path, so '//' stays in the URL).
    bosh: 'https://jitsi-meet.example.com/' + subdir + 'http-bind',

    // XMPP over websocket, proxied by nginx to prosody's port 5280.
    websocket: 'wss://jitsi-meet.example.com/' + subdir + 'xmpp-websocket',

    // websocketKeepAliveUrl: 'https://jitsi-meet.example.com/' + subdir + '_unlock',

    // Left to the client's built-in default unless preferBosh is set here.
    // preferBosh: false,

    // Uncomment focusUserJid and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // focusUserJid: 'focus@auth.jitsi-meet.example.com',

    // Setting for conferenceRequestUrl; see the handbook's configuration page.
    // conferenceRequestUrl:
    //   'https://<!--# echo var="http_host" default="jitsi-meet.example.com" -->/' + subdir + 'conference-request/v1',

    // Read by the web client (and by the mobile apps where they support bridgeChannel).
    bridgeChannel: {
        // Leave ignoreDomain out to keep the behaviour the client is built with.
        // A stray }; or ]; in a comment ends nothing: only code does.
        // ignoreDomain: 'example.com',

        // Left to the client's built-in default unless preferSctp is set here.
        // preferSctp: false
    },

    // Experimental switches; each may go away in a later release.

    testing: {
        // Uncomment assumeBandwidth and change the value to use it.
        // The value shown is a usual one, not necessarily the default.
        // assumeBandwidth: true,

        // Setting for electronUseGetDisplayMedia; see the handbook's configuration page.
        // electronUseGetDisplayMedia: false,

        // Read by the web client (and by the mobile apps where they support enableAV1ForFF).
        // enableAV1ForFF: false,

        // Leave enableCodecSelectionAPI out to keep the behaviour the client is built with.
        // enableCodecSelectionAPI: false,

        // Left to the client's built-in default unless p2pTestMode is set here.
        // URLs keep their slashes: https://example.com//path?a=1&b={x} is text here.
        // p2pTestMode: false,

        // Uncomment testMode and change the value to use it.
        // The value shown is a usual one, not necessarily the default.
        // testMode: false,

        // Setting for noAutoPlayVideo; see the handbook's configuration page.
        // noAutoPlayVideo: false,

        // Read by the web client (and by the mobile apps where they support skipInterimTranscriptions).
        // skipInterimTranscriptions: false,

        // Leave dumpTranscript out to keep the behaviour the client is built with.
        // dumpTranscript: false,

        // Left to the client's built-in default unless debugAudioLevels is set here.
        // debugAudioLevels: true,

        // Uncomment failICE and change the value to use it.
        // The value shown is a usual one, not necessarily the default.
        // failICE: true,

        // Setting for showSpotConsentDialog; see the handbook's configuration page.
        // Written as config.showSpotConsentDialog = value; after the object it overrides what is set inside it.
        // showSpotConsentDialog: false,
    },

    // Read by the web client (and by the mobile apps where they support disableModeratorIndicator).
    // disableModeratorIndicator: false,

    // Leave disableReactions out to keep the behaviour the client is built with.
    // disableReactions: true,

    // Left to the client's built-in default unless disableReactionsModeration is set here.
    // disableReactionsModeration: false,

    // Uncomment disableReactionsInChat and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // disableReactionsInChat: false,

    // Setting for disablePolls; see the handbook's configuration page.
    // disablePolls: false,

    // Read by the web client (and by the mobile apps where they support disableChat).
    // disableChat: false,

    // Leave disableSelfDemote out to keep the behaviour the client is built with.
    // /* not a block comment: this line starts with // so the star-slash is plain text */
    // disableSelfDemote: false,

    // Left to the client's built-in default unless disableSelfView is set here.
    // disableSelfView: false,

    // Uncomment disableSelfViewSettings and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // disableSelfViewSettings: false,

    // Setting for showChatPermissionsModeratorSetting; see the handbook's configuration page.
    // showChatPermissionsModeratorSetting: false,

    // screenshotCapture : {
    // Read by the web client (and by the mobile apps where they support enabled).
    //      enabled: false,
    //
    // Leave mode out to keep the behaviour the client is built with.
    //      mode: 'recording',
    // }

    // Left to the client's built-in default unless webrtcIceUdpDisable is set here.
    // webrtcIceUdpDisable: false,

    // Uncomment webrtcIceTcpDisable and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // Careful, it's a JS object, not JSON -- 'single', "double" and `back` quotes all occur.
    // webrtcIceTcpDisable: false,


    // Setting for disableAudioLevels; see the handbook's configuration page.

    // Read by the web client (and by the mobile apps where they support disableAudioLevels).

    // Leave disableAudioLevels out to keep the behaviour the client is built with.
    // disableAudioLevels: false,

    // audioLevelsInterval: 200,

    // Left to the client's built-in default unless enableNoAudioDetection is set here.
    enableNoAudioDetection: true,

    // Uncomment enableSaveLogs and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // enableSaveLogs: false,

    // Setting for disableShowMoreStats; see the handbook's configuration page.
    // disableShowMoreStats: true,

    // Read by the web client (and by the mobile apps where they support enableNoisyMicDetection).
    // A stray }; or ]; in a comment ends nothing: only code does.
    enableNoisyMicDetection: true,

    // Join with the camera off and video from others not received.
    // startAudioOnly: false,

    // Leave startAudioMuted out to keep the behaviour the client is built with.
    // startAudioMuted: 10,

    // Everybody who joins starts with the microphone muted.
    // startWithAudioMuted: false,

    // Left to the client's built-in default unless startSilent is set here.
    // startSilent: false,

    // Uncomment enableOpusRed and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // enableOpusRed: false,

    // Setting for audioQuality; see the handbook's configuration page.
    // audioQuality: {
    //     stereo: false,
    //     opusMaxAverageBitrate: null,
    //     enableOpusDtx: false,
    // },

    // Read by the web client (and by the mobile apps where they support audioTranslation).
    // URLs keep their slashes: https://example.com//path?a=1&b={x} is text here.
    // audioTranslation: {
    //     enabled: false,
    // },

    // Leave noiseSuppression out to keep the behaviour the client is built with.
    // More than one line of explanation belongs to noiseSuppression: read the handbook before changing it.
    // noiseSuppression: {
    //     krisp: {
    //         enabled: false,
    //         logProcessStats: false,
    //         debugLogs: false,
    //         useBVC: false,
    //         bufferOverflowMS: 1000,
    //         inboundModels: {
    //             modelInbound8: 'model_inbound_8.kef',
    //             modelInbound16: 'model_inbound_16.kef',
    //         },
    //         preloadInboundModels: {
    //             modelInbound8: 'model_inbound_8.kef',
    //             modelInbound16: 'model_inbound_16.kef',
    //         },
    //         preloadModels: {
    //             modelBVC: 'model_bvc.kef',
    //             model8: 'model_8.kef',
    //             modelNC: 'model_nc_mq.kef',
    //         },
    //         models: {
    //             modelBVC: 'model_bvc.kef',
    //             model8: 'model_8.kef',
    //             modelNV: 'model_nc_mq.kef',
    //         },
    //         bvc: {
    //             allowedDevices: 'bvc-allowed.txt',
    //             allowedDevicesExt: 'bvc-allowed-ext.txt',
    //         }
    //     },
    // },

    // Left to the client's built-in default unless cameraFacingMode is set here.

    // Uncomment cameraFacingMode and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // cameraFacingMode: 'user',

    // Preferred height of the camera picture, in pixels (e.g. 720 or 480).
    // A line such as `config.resolution = 360;` after this object wins over it.
    // resolution: 720,

    // Setting for disableRemoveRaisedHandOnFocus; see the handbook's configuration page.
    // disableRemoveRaisedHandOnFocus: false,

    // Read by the web client (and by the mobile apps where they support raisedHands).
    // raisedHands: {
    //     // Leave disableLowerHandByModerator out to keep the behaviour the client is built with.
    //     // Written as config.disableLowerHandByModerator = value; after the object it overrides what is set inside it.
    //     disableLowerHandByModerator: false,

    //     // Left to the client's built-in default unless disableLowerHandNotification is set here.
    //     disableLowerHandNotification: true,

    //     // Uncomment disableNextSpeakerNotification and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     disableNextSpeakerNotification: false,

    //     // Setting for disableRemoveRaisedHandOnFocus; see the handbook's configuration page.
    //     disableRemoveRaisedHandOnFocus: false,
    // },

    // speakerStats: {
    //     // Read by the web client (and by the mobile apps where they support disabled).
    //     disabled: false,

    //     // Leave disableSearch out to keep the behaviour the client is built with.
    //     disableSearch: false,

    //     // Left to the client's built-in default unless order is set here.
    //     order: [
    //         'role',
    //         'name',
    //         'hasLeft',
    //     ],
    // },

    // Uncomment disableSpeakerStatsSearch and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // /* not a block comment: this line starts with // so the star-slash is plain text */
    // disableSpeakerStatsSearch: false,

    // Setting for speakerStatsOrder; see the handbook's configuration page.
    // speakerStatsOrder: [
    // Read by the web client (and by the mobile apps where they support maxFullResolutionParticipants).

    // Leave maxFullResolutionParticipants out to keep the behaviour the client is built with.
    // maxFullResolutionParticipants: 2,

    // getUserMedia constraints: { video: { height: { ideal, max, min } } }.
    // Don't write them as JSON with "double quotes" unless you mean it; both work.
    // More than one line of explanation belongs to constraints: read the handbook before changing it.
    // constraints: {
    //     video: {
    //         height: {
    //             ideal: 720,
    //             max: 720,
    //             min: 240,
    //         },
    //     },
    // },

    // Send one video layer instead of several; saves the sender's CPU.
    // disableSimulcast: false,

    // Left to the client's built-in default unless startVideoMuted is set here.
    // startVideoMuted: 10,

    // Everybody who joins starts with the camera off.
    // Careful, it's a JS object, not JSON -- 'single', "double" and `back` quotes all occur.
    // startWithVideoMuted: false,

    // Uncomment desktopSharingFrameRate and change the value to use it.
    // The value shown is a usual one, not necessarily the default.

    // Setting for desktopSharingFrameRate; see the handbook's configuration page.
    // desktopSharingFrameRate: {
    //     min: 5,
    //     max: 5,
    // },

    // Read by the web client (and by the mobile apps where they support screenShareSettings).
    // screenShareSettings: {
    //      // Leave desktopPreferCurrentTab out to keep the behaviour the client is built with.
    //      desktopPreferCurrentTab: false,
    //      // Left to the client's built-in default unless desktopSystemAudio is set here.
    //      desktopSystemAudio: 'include',
    //      // Uncomment desktopSurfaceSwitching and change the value to use it.
    //      // The value shown is a usual one, not necessarily the default.
    //      desktopSurfaceSwitching: 'include',
    //      // Setting for desktopDisplaySurface; see the handbook's configuration page.
    //      // A stray }; or ]; in a comment ends nothing: only code does.
    //      desktopDisplaySurface: undefined,
    //      // Read by the web client (and by the mobile apps where they support desktopSelfBrowserSurface).
    //      desktopSelfBrowserSurface: 'exclude'
    // },

    // Leave dropbox out to keep the behaviour the client is built with.

    // Left to the client's built-in default unless dropbox is set here.
    // dropbox: {
    //     appKey: '<APP_KEY>',
    //     // Uncomment redirectURI and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     redirectURI:
    //          'https://jitsi-meet.example.com/subfolder/static/oauth.html',
    // },

    // Setting for recordings; see the handbook's configuration page.
    // recordings: {
    //    // Read by the web client (and by the mobile apps where they support recordingService).
    //    // More than one line of explanation belongs to recordingService: read the handbook before changing it.
    // },

    // recordingService: {
    //     // Leave enabled out to keep the behaviour the client is built with.
    //     // URLs keep their slashes: https://example.com//path?a=1&b={x} is text here.
    //     enabled: false,

    //     // Left to the client's built-in default unless sharingEnabled is set here.
    //     sharingEnabled: false,

    //     // Uncomment hideStorageWarning and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     hideStorageWarning: false,
    // },

    // Setting for fileRecordingsServiceEnabled; see the handbook's configuration page.
    // fileRecordingsServiceEnabled: false,

    // Read by the web client (and by the mobile apps where they support fileRecordingsServiceSharingEnabled).
    // fileRecordingsServiceSharingEnabled: false,

    // Leave localRecording out to keep the behaviour the client is built with.
    // localRecording: {
    //     // Left to the client's built-in default unless disable is set here.
    //     disable: false,

    //     // Uncomment notifyAllParticipants and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     // Written as config.notifyAllParticipants = value; after the object it overrides what is set inside it.
    //     notifyAllParticipants: false,

    //     // Setting for disableSelfRecording; see the handbook's configuration page.
    //     disableSelfRecording: false,
    // },

    // Read by the web client (and by the mobile apps where they support liveStreaming).
    // liveStreaming: {
    //    // Leave enabled out to keep the behaviour the client is built with.
    //    enabled: false,
    //    // Left to the client's built-in default unless termsLink is set here.
    //    termsLink: 'https://www.youtube.com/t/terms',
    //    // Uncomment dataPrivacyLink and change the value to use it.
    //    // The value shown is a usual one, not necessarily the default.
    //    dataPrivacyLink: 'https://policies.google.com/privacy',
    //    // Setting for validatorRegExpString; see the handbook's configuration page.
    //    validatorRegExpString: '^(?:[a-zA-Z0-9]{4}(?:-(?!$)|$)){4}',
    //    // Read by the web client (and by the mobile apps where they support helpLink).
    //    // /* not a block comment: this line starts with // so the star-slash is plain text */
    //    helpLink: 'https://jitsi.org/live'
    // },

    // Leave liveStreamingEnabled out to keep the behaviour the client is built with.
    // liveStreamingEnabled: false,

    // Left to the client's built-in default unless transcribingEnabled is set here.
    // transcribingEnabled: false,

    // Uncomment transcribeWithAppLanguage and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // transcribeWithAppLanguage: true,

    // Setting for preferredTranscribeLanguage; see the handbook's configuration page.
    // preferredTranscribeLanguage: 'en-US',

    // Read by the web client (and by the mobile apps where they support autoCaptionOnRecord).
    // autoCaptionOnRecord: false,

    // Leave transcription out to keep the behaviour the client is built with.
    // transcription: {
    //     // Left to the client's built-in default unless enabled is set here.
    //     // Careful, it's a JS object, not JSON -- 'single', "double" and `back` quotes all occur.
    //     enabled: false,

    //     // Uncomment translationEnabled and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     translationEnabled: true,

    //     translationLanguages: ['en', 'es', 'fr', 'ro'],

    //     // Setting for translationLanguagesHead; see the handbook's configuration page.
    //     translationLanguagesHead: ['en'],

    //     // Read by the web client (and by the mobile apps where they support useAppLanguage).
    //     // More than one line of explanation belongs to useAppLanguage: read the handbook before changing it.
    //     useAppLanguage: true,

    //     // Leave preferredLanguage out to keep the behaviour the client is built with.
    //     preferredLanguage: 'en-US',

    // Left to the client's built-in default unless customLanguages is set here.
    // customLanguages: {
    //     'hsb-DE': 'Upper Sorbian (Germany)',
    //     'dsb-DE': 'Lower Sorbian (Germany)'
    // },

    //     // Uncomment autoTranscribeOnRecord and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     autoTranscribeOnRecord: false,

    //     // Setting for autoCaptionOnTranscribe; see the handbook's configuration page.
    //     // A stray }; or ]; in a comment ends nothing: only code does.
    //     autoCaptionOnTranscribe: false,
    //
    //     // Read by the web client (and by the mobile apps where they support disableClosedCaptions).
    //     disableClosedCaptions: false,
    //
    //     // Leave renderTranscriptDetails out to keep the behaviour the client is built with.
    //     renderTranscriptDetails: false

    // },

    // How many video streams the bridge forwards at most (-1: all of them).

    // How many video streams the bridge forwards at most (-1: all of them).
    channelLastN: -1,

    // Left to the client's built-in default unless connectionIndicators is set here.
    // connectionIndicators: {
    //     autoHide: true,
    //     autoHideTimeout: 5000,
    //     disabled: false,
    //     disableDetails: false,
    //     inactiveDisabled: false
    // },

    // Uncomment startLastN and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // startLastN: 1,

    // Setting for videoQuality; see the handbook's configuration page.
    // URLs keep their slashes: https://example.com//path?a=1&b={x} is text here.
    // videoQuality: {
    //
    //    // Read by the web client (and by the mobile apps where they support codecPreferenceOrder).
    //    codecPreferenceOrder: [ 'AV1', 'VP9', 'VP8', 'H264' ],
    //
    //    // Leave screenshareCodec out to keep the behaviour the client is built with.
    //    screenshareCodec: 'AV1',
    //    mobileScreenshareCodec: 'VP8',
    //
    //    // Left to the client's built-in default unless enableAdaptiveMode is set here.
    //    enableAdaptiveMode: false,
    //
    //    // Uncomment av1 and change the value to use it.
    //    // The value shown is a usual one, not necessarily the default.
    //    av1: {
    //      maxBitratesVideo: {
    //          low: 100000,
    //          standard: 300000,
    //          high: 1000000,
    //          fullHd: 2000000,
    //          ultraHd: 4000000,
    //          ssHigh: 2500000
    //      },
    //      scalabilityModeEnabled: true,
    //      useSimulcast: false,
    //      useKSVC: true
    //    },
    //    h264: {
    //      maxBitratesVideo: {
    //          low: 200000,
    //          standard: 500000,
    //          high: 1500000,
    //          fullHd: 3000000,
    //          ultraHd: 6000000,
    //          ssHigh: 2500000
    //      },
    //      scalabilityModeEnabled: true
    //    },
    //    vp8: {
    //      maxBitratesVideo: {
    //          low: 200000,
    //          standard: 500000,
    //          high: 1500000,
    //          fullHd: 3000000,
    //          ultraHd: 6000000,
    //          ssHigh: 2500000
    //      },
    //      scalabilityModeEnabled: false
    //    },
    //    vp9: {
    //      maxBitratesVideo: {
    //          low: 100000,
    //          standard: 300000,
    //          high: 1200000,
    //          fullHd: 2500000,
    //          ultraHd: 5000000,
    //          ssHigh: 2500000
    //      },
    //      scalabilityModeEnabled: true,
    //      useSimulcast: false,
    //      useKSVC: true
    //    },
    //
    //    // Setting for minHeightForQualityLvl; see the handbook's configuration page.
    //    // More than one line of explanation belongs to minHeightForQualityLvl: read the handbook before changing it.
    //    minHeightForQualityLvl: {
    // Read by the web client (and by the mobile apps where they support mobileCodecPreferenceOrder).
    //    },
    //
    //    // Leave mobileCodecPreferenceOrder out to keep the behaviour the client is built with.
    //    // Written as config.mobileCodecPreferenceOrder = value; after the object it overrides what is set inside it.
    //    mobileCodecPreferenceOrder: [ 'VP8', 'VP9', 'H264', 'AV1' ],
    // },

    // Left to the client's built-in default unless notificationTimeouts is set here.
    // notificationTimeouts: {
    //     short: 2500,
    //     medium: 5000,
    //     long: 10000,
    //     extraLong: 60000,
    //     sticky: 0,
    // },

    // Uncomment disableRtx and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // disableRtx: false,

    // Setting for disableBeforeUnloadHandlers; see the handbook's configuration page.
    // disableBeforeUnloadHandlers: true,

    // Read by the web client (and by the mobile apps where they support enableTcc).
    // enableTcc: true,

    // Leave enableRemb out to keep the behaviour the client is built with.
    // enableRemb: true,

    // Left to the client's built-in default unless enableForcedReload is set here.
    // enableForcedReload: true,

    // Uncomment useTurnUdp and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // /* not a block comment: this line starts with // so the star-slash is plain text */
    // useTurnUdp: false

    // Setting for enableEncodedTransformSupport; see the handbook's configuration page.
    // enableEncodedTransformSupport: false,

    // Read by the web client (and by the mobile apps where they support disableResponsiveTiles).

    // Leave disableResponsiveTiles out to keep the behaviour the client is built with.
    // disableResponsiveTiles: false,

    // Left to the client's built-in default unless hideLobbyButton is set here.
    // hideLobbyButton: false,

    // Uncomment autoKnockLobby and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // autoKnockLobby: false,

    // Setting for enableLobbyChat; see the handbook's configuration page.
    // enableLobbyChat: true,

    // Read by the web client (and by the mobile apps where they support hideAddRoomButton).
    // Careful, it's a JS object, not JSON -- 'single', "double" and `back` quotes all occur.
    // hideAddRoomButton: false,

    // Leave requireDisplayName out to keep the behaviour the client is built with.
    // requireDisplayName: true,

    // Left to the client's built-in default unless enableWebHIDFeature is set here.
    // enableWebHIDFeature: false,

    // The landing page with its room-name field; false sends people straight in.
    // enableWelcomePage: true,

    // Uncomment welcomePage and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // welcomePage: {
    //     // Setting for disabled; see the handbook's configuration page.
    //     disabled: false,
    //     // Read by the web client (and by the mobile apps where they support customUrl).
    //     customUrl: ''
    // },

    // Leave lobby out to keep the behaviour the client is built with.
    // A stray }; or ]; in a comment ends nothing: only code does.
    // lobby: {
    //     // Left to the client's built-in default unless autoKnock is set here.
    //     autoKnock: false,
    //     // Uncomment enableChat and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     enableChat: true,
    //     // Setting for showHangUp; see the handbook's configuration page.
    //     showHangUp: true,
    // },

    // Read by the web client (and by the mobile apps where they support securityUi).
    // securityUi: {
    //     // Leave hideLobbyButton out to keep the behaviour the client is built with.
    //     hideLobbyButton: false,
    //     // Left to the client's built-in default unless disableLobbyPassword is set here.
    //     disableLobbyPassword: false,
    // },

    // Uncomment disableShortcuts and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // URLs keep their slashes: https://example.com//path?a=1&b={x} is text here.
    // disableShortcuts: false,

    // Setting for disableInitialGUM; see the handbook's configuration page.
    // disableInitialGUM: false,

    // Read by the web client (and by the mobile apps where they support enableClosePage).
    // enableClosePage: false,

    // Leave disable1On1Mode out to keep the behaviour the client is built with.
    // disable1On1Mode: null | false | true,

    // Left to the client's built-in default unless defaultLocalDisplayName is set here.
    // defaultLocalDisplayName: 'me',

    // Uncomment defaultRemoteDisplayName and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // defaultRemoteDisplayName: 'Fellow Jitster',

    // Setting for hideDisplayName; see the handbook's configuration page.
    // hideDisplayName: false,

    // Read by the web client (and by the mobile apps where they support hideDominantSpeakerBadge).
    // Written as config.hideDominantSpeakerBadge = value; after the object it overrides what is set inside it.
    // hideDominantSpeakerBadge: false,

    // Leave defaultLanguage out to keep the behaviour the client is built with.
    // defaultLanguage: 'en',

    // Left to the client's built-in default unless disableProfile is set here.
    // disableProfile: false,

    // Uncomment hideEmailInSettings and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // hideEmailInSettings: false,

    // Setting for default; see the handbook's configuration page.
    // default: roomPasswordNumberOfDigits: false,
    // roomPasswordNumberOfDigits: 10,

    // Read by the web client (and by the mobile apps where they support noticeMessage).
    // noticeMessage: '',

    // Leave enableCalendarIntegration out to keep the behaviour the client is built with.
    // enableCalendarIntegration: false,

    // Left to the client's built-in default unless notifyOnConferenceDestruction is set here.
    // /* not a block comment: this line starts with // so the star-slash is plain text */
    // notifyOnConferenceDestruction: true,

    // Uncomment googleApiApplicationClientID and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // googleApiApplicationClientID: '<client_id>',

    // The screen before the meeting (name, camera and microphone test).
    // prejoinConfig: {
    //     // Setting for enabled; see the handbook's configuration page.
    //     enabled: true,
    //     // Read by the web client (and by the mobile apps where they support hideDisplayName).
    //     hideDisplayName: false,
    //     // Leave hideExtraJoinButtons out to keep the behaviour the client is built with.
    //     hideExtraJoinButtons: ['no-audio', 'by-phone'],
    //     // Left to the client's built-in default unless preCallTestEnabled is set here.
    //     preCallTestEnabled: false,
    //     preCallTestICEUrl: '',
    //     // Uncomment showHangUp and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     // Careful, it's a JS object, not JSON -- 'single', "double" and `back` quotes all occur.
    //     showHangUp: true,
    // },

    // Setting for readOnlyName; see the handbook's configuration page.
    // readOnlyName: false,

    // Read by the web client (and by the mobile apps where they support openSharedDocumentOnJoin).
    // More than one line of explanation belongs to openSharedDocumentOnJoin: read the handbook before changing it.
    // openSharedDocumentOnJoin: false,

    // Leave enableInsecureRoomNameWarning out to keep the behaviour the client is built with.
    // enableInsecureRoomNameWarning: false,

    // Left to the client's built-in default unless corsAvatarURLs is set here.
    // corsAvatarURLs: [ 'https://www.gravatar.com/avatar/' ],

    // Uncomment gravatarBaseURL and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // gravatarBaseURL: 'https://www.gravatar.com/avatar/',

    // Setting for gravatar; see the handbook's configuration page.
    // gravatar: {
    //     // Read by the web client (and by the mobile apps where they support baseUrl).
    //     // A stray }; or ]; in a comment ends nothing: only code does.
    //     baseUrl: 'https://www.gravatar.com/avatar/',
    //     // Leave disabled out to keep the behaviour the client is built with.
    //     disabled: false,
    // },

    // Left to the client's built-in default unless inviteAppName is set here.
    // inviteAppName: null,

    // Which buttons the toolbar shows; an empty list [] hides them all.
    // More than one line of explanation belongs to toolbarButtons: read the handbook before changing it.
    // toolbarButtons: [
    //    'camera',
    //    'chat',
    //    'closedcaptions',
    //    'desktop',
    //    'download',
    //    'embedmeeting',
    //    'etherpad',
    //    'feedback',
    //    'fullscreen',
    //    'hangup',
    //    'help',
    //    'highlight',
    //    'invite',
    //    'linktosalesforce',
    //    'livestreaming',
    //    'microphone',
    //    'noisesuppression',
    //    'participants-pane',
    //    'profile',
    //    'raisehand',
    //    'recording',
    //    'security',
    //    'select-background',
    //    'settings',
    //    'shareaudio',
    //    'sharedvideo',
    //    'shortcuts',
    //    'stats',
    //    'tileview',
    //    'toggle-camera',
    //    'videoquality',
    //    'whiteboard',
    // ],

    // Uncomment toolbarConfig and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // toolbarConfig: {
    //     // Setting for initialTimeout; see the handbook's configuration page.
    //     initialTimeout: 20000,
    //     // Read by the web client (and by the mobile apps where they support timeout).
    //     timeout: 4000,
    //     // Leave alwaysVisible out to keep the behaviour the client is built with.
    //     // URLs keep their slashes: https://example.com//path?a=1&b={x} is text here.
    //     alwaysVisible: false,
    //     // Left to the client's built-in default unless autoHideWhileChatIsOpen is set here.
    //     autoHideWhileChatIsOpen: false,
    //     // Uncomment mainToolbarButtons and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    // },

    // Setting for mainToolbarButtons; see the handbook's configuration page.
    // More than one line of explanation belongs to mainToolbarButtons: read the handbook before changing it.
    // mainToolbarButtons: [
    // Read by the web client (and by the mobile apps where they support reducedUIEnabled).
    // More than one line of explanation belongs to reducedUIEnabled: read the handbook before changing it.
    // ],

    // Leave reducedUIEnabled out to keep the behaviour the client is built with.
    // reducedUIEnabled: true,

    // Left to the client's built-in default unless reducedUImainToolbarButtons is set here.
    // reducedUImainToolbarButtons: [ 'microphone', 'camera' ],

    // Uncomment buttonsWithNotifyClick and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // Written as config.buttonsWithNotifyClick = value; after the object it overrides what is set inside it.
    // buttonsWithNotifyClick: [
    //     'camera',
    //     {
    //         key: 'chat',
    //         preventExecution: false
    //     },
    //     {
    //         key: 'closedcaptions',
    //         preventExecution: true
    //     },
    //     'desktop',
    //     'download',
    //     'embedmeeting',
    //     'end-meeting',
    //     'etherpad',
    //     'feedback',
    //     'filmstrip',
    //     'fullscreen',
    //     'hangup',
    //     'hangup-menu',
    //     'help',
    //     {
    //         key: 'invite',
    //         preventExecution: false
    //     },
    //     'livestreaming',
    //     'microphone',
    //     'mute-everyone',
    //     'mute-video-everyone',
    //     'noisesuppression',
    //     'participants-pane',
    //     'profile',
    //     {
    //         key: 'raisehand',
    //         preventExecution: true
    //     },
    //     'recording',
    //     'security',
    //     'select-background',
    //     'settings',
    //     'shareaudio',
    //     'sharedvideo',
    //     'shortcuts',
    //     'stats',
    //     'tileview',
    //     'toggle-camera',
    //     'videoquality',
    //     // Setting for key; see the handbook's configuration page.
    //     {
    //         key: 'add-passcode',
    //         preventExecution: false
    //     },
    //     'whiteboard',
    // ],

    // Read by the web client (and by the mobile apps where they support participantMenuButtonsWithNotifyClick).
    // More than one line of explanation belongs to participantMenuButtonsWithNotifyClick: read the handbook before changing it.
    // participantMenuButtonsWithNotifyClick: [
    //     'allow-video',
    //     {
    //         key: 'ask-unmute',
    //         preventExecution: false
    //     },
    //     'conn-status',
    //     'flip-local-video',
    //     'grant-moderator',
    //     {
    //         key: 'kick',
    //         preventExecution: true
    //     },
    //     {
    //         key: 'hide-self-view',
    //         preventExecution: false
    //     },
    //     'mute',
    //     'mute-others',
    //     'mute-others-video',
    //     'mute-video',
    //     'pinToStage',
    //     'privateMessage',
    //     {
    //         key: 'remote-control',
    //         preventExecution: false
    //     },
    //     'send-participant-to-room',
    //     'verify',
    // ],

    // Leave hiddenPremeetingButtons out to keep the behaviour the client is built with.
    // hiddenPremeetingButtons: [],

    // Left to the client's built-in default unless type is set here.
    // type:  Array<{ icon: string; id: string; text: string; }>
    // customParticipantMenuButtons: [],

    // Uncomment type and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // type:  Array<{ icon: string; id: string; text: string; backgroundColor?: string; }>
    // customToolbarButtons: [],

    // Setting for gatherStats; see the handbook's configuration page.

    // Read by the web client (and by the mobile apps where they support gatherStats).
    // /* not a block comment: this line starts with // so the star-slash is plain text */
    // gatherStats: false,

    // Leave pcStatsInterval out to keep the behaviour the client is built with.
    // pcStatsInterval: 10000,

    // Left to the client's built-in default unless enableDisplayNameInStats is set here.
    // enableDisplayNameInStats: false,

    // Uncomment enableEmailInStats and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // enableEmailInStats: false,

    // faceLandmarks: {
    //     // Setting for enableFaceCentering; see the handbook's configuration page.
    //     enableFaceCentering: false,

    //     // Read by the web client (and by the mobile apps where they support enableFaceExpressionsDetection).
    //     enableFaceExpressionsDetection: false,

    //     // Leave enableDisplayFaceExpressions out to keep the behaviour the client is built with.
    //     enableDisplayFaceExpressions: false,

    //     // Left to the client's built-in default unless enableRTCStats is set here.
    //     // Careful, it's a JS object, not JSON -- 'single', "double" and `back` quotes all occur.
    //     enableRTCStats: false,

    //     // Uncomment faceCenteringThreshold and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     faceCenteringThreshold: 10,

    //     // Setting for captureInterval; see the handbook's configuration page.
    //     captureInterval: 1000,
    // },

    // Read by the web client (and by the mobile apps where they support feedbackPercentage).
    // feedbackPercentage: 100,

    // Leave disableThirdPartyRequests out to keep the behaviour the client is built with.

    // Left to the client's built-in default unless disableThirdPartyRequests is set here.
    // disableThirdPartyRequests: false,


    // Two-party calls go peer to peer (no bridge) when 'enabled' is true.

    p2p: {
        // Uncomment enabled and change the value to use it.
        // The value shown is a usual one, not necessarily the default.
        // A stray }; or ]; in a comment ends nothing: only code does.
        enabled: true,

        // Setting for iceTransportPolicy; see the handbook's configuration page.
        // More than one line of explanation belongs to iceTransportPolicy: read the handbook before changing it.
        // iceTransportPolicy: 'all',

        // Read by the web client (and by the mobile apps where they support mobileCodecPreferenceOrder).
        // mobileCodecPreferenceOrder: [ 'H264', 'VP8', 'VP9', 'AV1' ],
        //
        // Leave codecPreferenceOrder out to keep the behaviour the client is built with.
        // codecPreferenceOrder: [ 'AV1', 'VP9', 'VP8', 'H264 ],

        // Left to the client's built-in default unless screenshareCodec is set here.
        // screenshareCodec: 'AV1',
        // mobileScreenshareCodec: 'VP8',

        // Uncomment backToP2PDelay and change the value to use it.
        // The value shown is a usual one, not necessarily the default.
        // backToP2PDelay: 5,

        // Setting for stunServers; see the handbook's configuration page.
        stunServers: [

            // Third-party analytics handlers; none is loaded unless listed here.
            // URLs keep their slashes: https://example.com//path?a=1&b={x} is text here.
            { urls: 'stun:meet-jit-si-turnrelay.jitsi.net:443' },
        ],
    },

    analytics: {
        // Read by the web client (and by the mobile apps where they support disabled).
        // disabled: false,

        // Leave matomoEndpoint out to keep the behaviour the client is built with.
        // matomoEndpoint: 'https://your-matomo-endpoint/',
        // matomoSiteID: '42',

        // Left to the client's built-in default unless amplitudeAPPKey is set here.
        // amplitudeAPPKey: '<APP_KEY>',

        // Uncomment obfuscateRoomName and change the value to use it.
        // The value shown is a usual one, not necessarily the default.
        // obfuscateRoomName: false,

        // Setting for rtcstatsEnabled; see the handbook's configuration page.
        // More than one line of explanation belongs to rtcstatsEnabled: read the handbook before changing it.
        // rtcstatsEnabled: false,
        // rtcstatsStoreLogs: false,

        // Read by the web client (and by the mobile apps where they support rtcstatsEndpoint).
        // rtcstatsEndpoint: wss://rtcstats-server-pilot.jitsi.net/,

        // Leave rtcstatsPollInterval out to keep the behaviour the client is built with.
        // Written as config.rtcstatsPollInterval = value; after the object it overrides what is set inside it.
        // rtcstatsPollInterval: 10000,

        // Left to the client's built-in default unless rtcstatsSendSdp is set here.
        // rtcstatsSendSdp: false,

        // Uncomment scriptURLs and change the value to use it.
        // The value shown is a usual one, not necessarily the default.
        // scriptURLs: [
        //      "https://example.com/my-custom-analytics.js",
        // ],

        // Setting for watchRTCEnabled; see the handbook's configuration page.
        // watchRTCEnabled: false,
    },

    // Read by the web client (and by the mobile apps where they support apiLogLevels).
    // apiLogLevels: ['warn', 'log', 'error', 'info', 'debug'],

    // Leave deploymentInfo out to keep the behaviour the client is built with.
    // deploymentInfo: {
    //     shard: "shard1",
    //     region: "europe",
    //     userRegion: "asia",
    // },

    // Left to the client's built-in default unless disabledSounds is set here.
    // More than one line of explanation belongs to disabledSounds: read the handbook before changing it.
    // disabledSounds: [],

    // Uncomment disableRecordAudioNotification and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // /* not a block comment: this line starts with // so the star-slash is plain text */
    // disableRecordAudioNotification: false,

    // Setting for disableJoinLeaveSounds; see the handbook's configuration page.
    // disableJoinLeaveSounds: false,

    // Read by the web client (and by the mobile apps where they support disableIncomingMessageSound).
    // disableIncomingMessageSound: false,

    // Leave chromeExtensionBanner out to keep the behaviour the client is built with.
    // chromeExtensionBanner: {
    //     // Left to the client's built-in default unless url is set here.
    //     url: 'https://chrome.google.com/webstore/detail/jitsi-meetings/kglhbbefdnlheedjiejgomgmfplipfeb',
    //     edgeUrl: 'https://microsoftedge.microsoft.com/addons/detail/jitsi-meetings/eeecajlpbgjppibfledfihobcabccihn',

    //     // Uncomment chromeExtensionsInfo and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     chromeExtensionsInfo: [
    //         {
    //             id: 'kglhbbefdnlheedjiejgomgmfplipfeb',
    //             path: 'jitsi-logo-48x48.png',
    //         },
    //         // Setting for id; see the handbook's configuration page.
    //         {
    //             id: 'eeecajlpbgjppibfledfihobcabccihn',
    //             path: 'jitsi-logo-48x48.png',
    //         },
    //     ]
    // },

    // e2ee: {
    //   labels: {
    //     description: '',
    //     label: '',
    //     tooltip: '',
    //     warning: '',
    //   },
    //   externallyManagedKey: false,
    //   disabled: false,
    // },

    // End-to-end round-trip measurements between participants.
    // Careful, it's a JS object, not JSON -- 'single', "double" and `back` quotes all occur.
    // e2eping: {
    //   // Read by the web client (and by the mobile apps where they support enabled).
    //   enabled: false,
    //
    //   // Leave numRequests out to keep the behaviour the client is built with.
    //   numRequests: 5,
    //
    //   // Left to the client's built-in default unless maxConferenceSize is set here.
    //   maxConferenceSize: 200,
    //
    //   // Uncomment maxMessagesPerSecond and change the value to use it.
    //   // The value shown is a usual one, not necessarily the default.
    //   maxMessagesPerSecond: 250,
    // },

    // Setting for _desktopSharingSourceDevice; see the handbook's configuration page.
    // More than one line of explanation belongs to _desktopSharingSourceDevice: read the handbook before changing it.
    // _desktopSharingSourceDevice: 'sample-id-or-label',

    // Read by the web client (and by the mobile apps where they support disableDeepLinking).
    // disableDeepLinking: false,

    // Leave deeplinking out to keep the behaviour the client is built with.
    // A stray }; or ]; in a comment ends nothing: only code does.
    // deeplinking: {
    //
    //     // Left to the client's built-in default unless desktop is set here.
    //     desktop: {
    //         appName: 'Jitsi Meet',
    //         appScheme: 'jitsi-meet,
    //         download: {
    //             linux:
    //               'https://github.com/jitsi/jitsi-meet-electron/releases/latest/download/jitsi-meet-x86_64.AppImage',
    //             macos: 'https://github.com/jitsi/jitsi-meet-electron/releases/latest/download/jitsi-meet.dmg',
    //             windows: 'https://github.com/jitsi/jitsi-meet-electron/releases/latest/download/jitsi-meet.exe'
    //         },
    //         enabled: false
    //     },
    //     // Uncomment disabled and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     disabled: false,

    //     // Setting for hideLogo; see the handbook's configuration page.
    //     hideLogo: false,

    //     // Read by the web client (and by the mobile apps where they support ios).
    //     ios: {
    //         appName: 'Jitsi Meet',
    //         // Leave appScheme out to keep the behaviour the client is built with.
    //         appScheme: 'org.jitsi.meet',
    //         // Left to the client's built-in default unless downloadLink is set here.
    //         downloadLink: 'https://itunes.apple.com/us/app/jitsi-meet/id1165103905',
    //     },

    //     // Uncomment android and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     // URLs keep their slashes: https://example.com//path?a=1&b={x} is text here.
    //     android: {
    //         appName: 'Jitsi Meet',
    //         // Setting for appScheme; see the handbook's configuration page.
    //         appScheme: 'org.jitsi.meet',
    //         // Read by the web client (and by the mobile apps where they support downloadLink).
    //         downloadLink: 'https://play.google.com/store/apps/details?id=org.jitsi.meet',
    //         // Leave appPackage out to keep the behaviour the client is built with.
    //         appPackage: 'org.jitsi.meet',
    //         fDroidUrl: 'https://f-droid.org/en/packages/org.jitsi.meet/',
    //     }
    // },

    // // Left to the client's built-in default unless legalUrls is set here.
    // legalUrls: {
    //     helpCentre: 'https://web-cdn.jitsi.net/faq/meet-faq.html',
    //     privacy: 'https://jitsi.org/meet/privacy',
    //     terms: 'https://jitsi.org/meet/terms'
    // },

    // Uncomment disableLocalVideoFlip and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // disableLocalVideoFlip: false,

    // Setting for doNotFlipLocalVideo; see the handbook's configuration page.
    // doNotFlipLocalVideo: false,

    // Read by the web client (and by the mobile apps where they support disableInviteFunctions).
    // Written as config.disableInviteFunctions = value; after the object it overrides what is set inside it.

    // Leave disableInviteFunctions out to keep the behaviour the client is built with.
    // disableInviteFunctions: true,

    // Left to the client's built-in default unless doNotStoreRoom is set here.
    // doNotStoreRoom: true,

    // Uncomment deploymentUrls and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // deploymentUrls: {
    //    // Setting for userDocumentationURL; see the handbook's configuration page.
    //    userDocumentationURL: 'https://docs.example.com/video-meetings.html',
    //    // Read by the web client (and by the mobile apps where they support downloadAppsUrl).
    //    downloadAppsUrl: 'https://docs.example.com/our-apps.html',
    // },

    // Leave remoteVideoMenu out to keep the behaviour the client is built with.
    // remoteVideoMenu: {
    //     // Left to the client's built-in default unless disabled is set here.
    //     // /* not a block comment: this line starts with // so the star-slash is plain text */
    //     disabled: true,
    //     // Uncomment disableDemote and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     disableDemote: true,
    //     // Setting for disableKick; see the handbook's configuration page.
    //     disableKick: true,
    //     // Read by the web client (and by the mobile apps where they support disableGrantModerator).
    //     disableGrantModerator: true,
    //     // Leave disablePrivateChat out to keep the behaviour the client is built with.
    //     disablePrivateChat: 'all' | 'allow-moderator-chat' | 'disable-visitor-chat',
    // },


    // Left to the client's built-in default unless disableRemoteMute is set here.
    // disableRemoteMute: true,

    /*
        Uncomment groupChatRequiresPermission and change the value to use it.
        The value shown is a usual one, not necessarily the default.
    {
        // Setting for groupChatRequiresPermission; see the handbook's configuration page.
        // Careful, it's a JS object, not JSON -- 'single', "double" and `back` quotes all occur.
        groupChatRequiresPermission: false,
        // Read by the web client (and by the mobile apps where they support pollCreationRequiresPermission).
        pollCreationRequiresPermission: false,
        // Leave inviteDomain out to keep the behaviour the client is built with.
        inviteDomain: 'example-company.org',
        // Left to the client's built-in default unless backgroundColor is set here.
        backgroundColor: '#fff',
        // Uncomment backgroundImageUrl and change the value to use it.
        // The value shown is a usual one, not necessarily the default.
        backgroundImageUrl: 'https://example.com/background-img.png',
        // Setting for logoClickUrl; see the handbook's configuration page.
        logoClickUrl: 'https://example-company.org',
        // Read by the web client (and by the mobile apps where they support logoImageUrl).
        logoImageUrl: 'https://example.com/logo-img.png',
        // Leave salesforceUrl out to keep the behaviour the client is built with.
        // A stray }; or ]; in a comment ends nothing: only code does.
        // More than one line of explanation belongs to salesforceUrl: read the handbook before changing it.
        // salesforceUrl: 'https://api.example.com/',
        // Left to the client's built-in default unless avatarBackgrounds is set here.
        avatarBackgrounds: ['url(https://example.com/avatar-background-1.png)', '#FFF'],
        // Uncomment premeetingBackground and change the value to use it.
        // The value shown is a usual one, not necessarily the default.
        premeetingBackground: 'url(https://example.com/premeeting-background.png)',
        // Setting for virtualBackgrounds; see the handbook's configuration page.
        virtualBackgrounds: ['https://example.com/img.jpg'],
        // Read by the web client (and by the mobile apps where they support customIcons).
        // More than one line of explanation belongs to customIcons: read the handbook before changing it.
        customIcons: {
            IconArrowUp: 'https://example.com/arrow-up.svg',
            IconDownload: 'https://example.com/download.svg',
            IconRemoteControlStart: 'https://example.com/remote-start.svg',
        },
        // Leave customTheme out to keep the behaviour the client is built with.
        // More than one line of explanation belongs to customTheme: read the handbook before changing it.
        customTheme: {
            palette: {
                ui01: "orange !important",
                ui02: "maroon",
                surface02: 'darkgreen',
                ui03: "violet",
                ui04: "magenta",
                ui05: "blueviolet",
                action01: 'green',
                action01Hover: 'lightgreen',
                disabled01: 'beige',
                success02: 'cadetblue',
                action02Hover: 'aliceblue',
            },
            typography: {
                labelRegular: {
                    fontSize: 25,
                    lineHeight: 30,
                    fontWeight: 500,
                }
            }
        }
    }
    */
    // dynamicBrandingUrl: '',

    // Left to the client's built-in default unless sharedVideoAllowedURLDomains is set here.
    // More than one line of explanation belongs to sharedVideoAllowedURLDomains: read the handbook before changing it.
    // sharedVideoAllowedURLDomains: [ ],

    // Uncomment participantsPane and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // URLs keep their slashes: https://example.com//path?a=1&b={x} is text here.
    // participantsPane: {
    //     // Setting for enabled; see the handbook's configuration page.
    //     enabled: true,
    //     // Read by the web client (and by the mobile apps where they support hideModeratorSettingsTab).
    //     hideModeratorSettingsTab: false,
    //     // Leave hideMoreActionsButton out to keep the behaviour the client is built with.
    //     hideMoreActionsButton: false,
    //     // Left to the client's built-in default unless hideMuteAllButton is set here.
    //     hideMuteAllButton: false,
    // },

    // Uncomment breakoutRooms and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // breakoutRooms: {
    //     // Setting for hideAddRoomButton; see the handbook's configuration page.
    //     hideAddRoomButton: false,
    //     // Read by the web client (and by the mobile apps where they support hideAutoAssignButton).
    //     // Written as config.hideAutoAssignButton = value; after the object it overrides what is set inside it.
    //     hideAutoAssignButton: false,
    //     // Leave hideJoinRoomButton out to keep the behaviour the client is built with.
    //     hideJoinRoomButton: false,
    // },

    // Left to the client's built-in default unless backgroundAlpha is set here.
    // backgroundAlpha: 1,

    // Uncomment disableVirtualBackground and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // disableVirtualBackground: false,

    // Setting for disableAddingBackgroundImages; see the handbook's configuration page.
    // disableAddingBackgroundImages: false,

    // Read by the web client (and by the mobile apps where they support virtualBackground).
    virtualBackground: {

        // Leave disabled out to keep the behaviour the client is built with.
        // disabled: false,

        // Left to the client's built-in default unless disableAddingImages is set here.
        // /* not a block comment: this line starts with // so the star-slash is plain text */
        // disableAddingImages: false,

        // Uncomment enableV2 and change the value to use it.
        // The value shown is a usual one, not necessarily the default.
        // enableV2: false,

        // Setting for advanced; see the handbook's configuration page.
        // advanced: {

        //     // Read by the web client (and by the mobile apps where they support the options below).

        //     // Leave the options below out to keep the behaviour the client is built with.
        //     // More than one line of explanation belongs to this part: read the handbook before changing it.

        //     // Left to the client's built-in default unless the options below is set here.

        //     // Uncomment the options below and change the value to use it.
        //     // The value shown is a usual one, not necessarily the default.

        //     // Setting for the options below; see the handbook's configuration page.
        //     // Careful, it's a JS object, not JSON -- 'single', "double" and `back` quotes all occur.
        //     // More than one line of explanation belongs to this part: read the handbook before changing it.

        //     // Read by the web client (and by the mobile apps where they support the options below).

        //     // Leave moderatedRoomServiceUrl out to keep the behaviour the client is built with.
        //     // More than one line of explanation belongs to moderatedRoomServiceUrl: read the handbook before changing it.
        // },
    },

    // Left to the client's built-in default unless moderatedRoomServiceUrl is set here.
    // moderatedRoomServiceUrl: 'https://moderated.jitsi-meet.example.com',

    // Uncomment disableTileView and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // disableTileView: true,

    // Setting for secondScreen; see the handbook's configuration page.
    // More than one line of explanation belongs to secondScreen: read the handbook before changing it.
    // secondScreen: {
    //     enabled: false
    // },

    // Read by the web client (and by the mobile apps where they support disableTileEnlargement).
    // disableTileEnlargement: true,

    // Leave conferenceInfo out to keep the behaviour the client is built with.
    // A stray }; or ]; in a comment ends nothing: only code does.
    // conferenceInfo: {
    //     // Left to the client's built-in default unless alwaysVisible is set here.
    //     alwaysVisible: ['recording', 'raised-hands-count', 'time-timer'],
    //     // Uncomment autoHide and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     autoHide: [
    //         'subject',
    //         'conference-timer',
    //         'participants-count',
    //         'e2ee',
    //         'video-quality',
    //         'insecure-room',
    //         'highlight-moment',
    //         'top-panel-toggle',
    //     ]
    // },

    // Setting for hideConferenceSubject; see the handbook's configuration page.
    // hideConferenceSubject: false,

    // Read by the web client (and by the mobile apps where they support hideConferenceTimer).
    // hideConferenceTimer: false,

    // Leave hideRecordingLabel out to keep the behaviour the client is built with.
    // hideRecordingLabel: false,

    // Left to the client's built-in default unless hideParticipantsStats is set here.
    // hideParticipantsStats: true,

    // Uncomment subject and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // URLs keep their slashes: https://example.com//path?a=1&b={x} is text here.
    // subject: 'Conference Subject',

    // Setting for localSubject; see the handbook's configuration page.
    // localSubject: 'Conference Local Subject',

    // Read by the web client (and by the mobile apps where they support useHostPageLocalStorage).
    // useHostPageLocalStorage: true,

    // Leave etherpad_base out to keep the behaviour the client is built with.
    // etherpad_base: 'https://your-etherpad-installati.on/p/',

    // Left to the client's built-in default unless tokenAuthUrl is set here.
    // More than one line of explanation belongs to tokenAuthUrl: read the handbook before changing it.

    // Uncomment tokenAuthUrl and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // tokenAuthUrl:
    //      'https://myservice.com/auth/{room}?code_challenge_method=S256&code_challenge={code_challenge}&state={state}'
    // Setting for tokenLogoutUrl; see the handbook's configuration page.
    // More than one line of explanation belongs to tokenLogoutUrl: read the handbook before changing it.
    // tokenLogoutUrl: 'https://myservice.com/logout'
    // Read by the web client (and by the mobile apps where they support tokenRespectTenant).
    // Written as config.tokenRespectTenant = value; after the object it overrides what is set inside it.
    // tokenRespectTenant: false,
    // Leave tokenGetUserInfoOutOfContext out to keep the behaviour the client is built with.
    // tokenGetUserInfoOutOfContext: false,
    // Left to the client's built-in default unless tokenAuthInline is set here.
    // tokenAuthInline: false,

    // Uncomment peopleSearchQueryTypes and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // peopleSearchQueryTypes: ["user", "email"],
    // Setting for peopleSearchUrl; see the handbook's configuration page.
    // peopleSearchUrl: "https://myservice.com/api/people",
    // Read by the web client (and by the mobile apps where they support inviteServiceUrl).
    // inviteServiceUrl: "https://myservice.com/api/invite",

    // Leave peopleSearchTokenLocation out to keep the behaviour the client is built with.
    // peopleSearchTokenLocation: "mytoken",


    // Left to the client's built-in default unless visitors is set here.
    // /* not a block comment: this line starts with // so the star-slash is plain text */
    // visitors: {
    //     // Uncomment enableMediaOnPromote and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     enableMediaOnPromote: {
    //         audio: true,
    //         video: true
    //     },
    //     // Setting for desktopSharingSources; see the handbook's configuration page.
    // },
    // Read by the web client (and by the mobile apps where they support desktopSharingSources).
    // desktopSharingSources: ['screen', 'window'],

    // Leave disableAEC out to keep the behaviour the client is built with.
    // disableAEC: true,

    // Left to the client's built-in default unless disableAGC is set here.
    // disableAGC: true,

    // Uncomment disableAP and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // disableAP: true,

    // Setting for disableNS; see the handbook's configuration page.
    // Careful, it's a JS object, not JSON -- 'single', "double" and `back` quotes all occur.
    // disableNS: true,

    // Read by the web client (and by the mobile apps where they support displayJids).
    // displayJids: true,

    // Leave enableTalkWhileMuted out to keep the behaviour the client is built with.
    // enableTalkWhileMuted: true,

    // Left to the client's built-in default unless forceTurnRelay is set here.
    // forceTurnRelay: true,

    // Uncomment the options below and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    /*
        Setting for brandingRoomAlias; see the handbook's configuration page.
        More than one line of explanation belongs to brandingRoomAlias: read the handbook before changing it.
     */

    /*
        Read by the web client (and by the mobile apps where they support brandingRoomAlias).
     */
    // brandingRoomAlias: null,

    // Leave the options below out to keep the behaviour the client is built with.
    // A stray }; or ]; in a comment ends nothing: only code does.
    /*
        Left to the client's built-in default unless mouseMoveCallbackInterval is set here.
        More than one line of explanation belongs to mouseMoveCallbackInterval: read the handbook before changing it.
     */

    /*
        Uncomment mouseMoveCallbackInterval and change the value to use it.
        The value shown is a usual one, not necessarily the default.
     */
    mouseMoveCallbackInterval: 1000,

    /*
           Setting for notifications; see the handbook's configuration page.
           More than one line of explanation belongs to notifications: read the handbook before changing it.
    */
    // notifications: [
    //     'connection.CONNFAIL',
    //     'dialog.cameraConstraintFailedError',
    //     'dialog.cameraNotSendingData',
    //     'dialog.kickTitle',
    //     'dialog.liveStreaming',
    //     'dialog.lockTitle',
    //     'dialog.maxUsersLimitReached',
    //     'dialog.micNotSendingData',
    //     'dialog.passwordNotSupportedTitle',
    //     'dialog.recording',
    //     'dialog.remoteControlTitle',
    //     'dialog.reservationError',
    //     'dialog.screenSharingFailedTitle',
    //     'dialog.serviceUnavailable',
    //     'dialog.sessTerminated',
    //     'dialog.sessionRestarted',
    //     'dialog.tokenAuthFailed',
    //     'dialog.tokenAuthFailedWithReasons',
    //     'dialog.transcribing',
    //     'dialOut.statusMessage',
    //     'liveStreaming.busy',
    //     'liveStreaming.failedToStart',
    //     'liveStreaming.unavailableTitle',
    //     'lobby.joinRejectedMessage',
    //     'lobby.notificationTitle',
    //     'notify.audioUnmuteBlockedTitle',
    //     'notify.chatMessages',
    //     'notify.connectedOneMember',
    //     'notify.connectedThreePlusMembers',
    //     'notify.connectedTwoMembers',
    //     'notify.dataChannelClosed',
    //     'notify.hostAskedUnmute',
    //     'notify.invitedOneMember',
    //     'notify.invitedThreePlusMembers',
    //     'notify.invitedTwoMembers',
    //     'notify.kickParticipant',
    //     'notify.leftOneMember',
    //     'notify.leftThreePlusMembers',
    //     'notify.leftTwoMembers',
    //     'notify.linkToSalesforce',
    //     'notify.localRecordingStarted',
    //     'notify.localRecordingStopped',
    //     'notify.moderationInEffectCSTitle',
    //     'notify.moderationInEffectTitle',
    //     'notify.moderationInEffectVideoTitle',
    //     'notify.moderator',
    //     'notify.mutedRemotelyTitle',
    //     'notify.mutedTitle',
    //     'notify.newDeviceAudioTitle',
    //     'notify.newDeviceCameraTitle',
    //     'notify.noiseSuppressionFailedTitle',
    //     'notify.participantWantsToJoin',
    //     'notify.participantsWantToJoin',
    //     'notify.passwordRemovedRemotely',
    //     'notify.passwordSetRemotely',
    //     'notify.raisedHand',
    //     'notify.screenShareNoAudio',
    //     'notify.screenSharingAudioOnlyTitle',
    //     'notify.selfViewTitle',
    //     'notify.startSilentTitle',
    //     'notify.suboptimalExperienceTitle',
    //     'notify.unmute',
    //     'notify.videoMutedRemotelyTitle',
    //     'notify.videoUnmuteBlockedTitle',
    //     'prejoin.errorDialOut',
    //     'prejoin.errorDialOutDisconnected',
    //     'prejoin.errorDialOutFailed',
    //     'prejoin.errorDialOutStatus',
    //     'prejoin.errorStatusCode',
    //     'prejoin.errorValidation',
    //     'recording.busy',
    //     'recording.failedToStart',
    //     'recording.unavailableTitle',
    //     'toolbar.noAudioSignalTitle',
    //     'toolbar.noisyAudioInputTitle',
    //     'toolbar.talkWhileMutedPopup',
    //     'transcribing.failed',
    // ],

    // Read by the web client (and by the mobile apps where they support disabledNotifications).
    // disabledNotifications: [],

    // filmstrip: {
    //     // Leave disabled out to keep the behaviour the client is built with.
    //     disabled: false,
    //     // Left to the client's built-in default unless disableResizable is set here.
    //     disableResizable: false,

    //     // Uncomment disableStageFilmstrip and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     // URLs keep their slashes: https://example.com//path?a=1&b={x} is text here.
    //     disableStageFilmstrip: false,

    //     // Setting for stageFilmstripParticipants; see the handbook's configuration page.
    //     stageFilmstripParticipants: 1,

    //     // Read by the web client (and by the mobile apps where they support disableTopPanel).
    //     disableTopPanel: false,

    //     // Leave minParticipantCountForTopPanel out to keep the behaviour the client is built with.
    //     minParticipantCountForTopPanel: 50,

    //     // Left to the client's built-in default unless initialWidth is set here.
    //     initialWidth: 400,

    //     // Uncomment alwaysShowResizeBar and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     alwaysShowResizeBar: true,
    // },

    // Setting for tileView; see the handbook's configuration page.
    // tileView: {
    //     // Read by the web client (and by the mobile apps where they support disabled).
    //     // Written as config.disabled = value; after the object it overrides what is set inside it.
    //     disabled: false,
    //     // Leave numberOfVisibleTiles out to keep the behaviour the client is built with.
    //     numberOfVisibleTiles: 25,
    // },

    // Left to the client's built-in default unless disableChatSmileys is set here.
    // disableChatSmileys: false,

    // Uncomment giphy and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // giphy: {
    //     // Setting for enabled; see the handbook's configuration page.
    //     enabled: false,
    //     // Read by the web client (and by the mobile apps where they support sdkKey).
    //     sdkKey: '',
    //     // Leave displayMode out to keep the behaviour the client is built with.
    //     displayMode: 'all',
    //     // Left to the client's built-in default unless tileTime is set here.
    //     // /* not a block comment: this line starts with // so the star-slash is plain text */
    //     tileTime: 5000,
    //     // Uncomment rating and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     rating: 'pg',
    // },

    // Setting for logging; see the handbook's configuration page.
    // logging: {
    //      // Read by the web client (and by the mobile apps where they support defaultLogLevel).
    //      defaultLogLevel: 'trace',
    //      // Leave loggers out to keep the behaviour the client is built with.
    //      loggers: {
    //          // Left to the client's built-in default unless defaultLogoUrl is set here.
    //      },
    // },

    // Uncomment defaultLogoUrl and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // defaultLogoUrl: 'images/watermark.svg',

    // Setting for timeTimer; see the handbook's configuration page.
    // Careful, it's a JS object, not JSON -- 'single', "double" and `back` quotes all occur.
    // More than one line of explanation belongs to timeTimer: read the handbook before changing it.
    // timeTimer: {
    //     enabled: true,
    // },

    // Read by the web client (and by the mobile apps where they support whiteboard).
    // whiteboard: {
    //     // Leave enabled out to keep the behaviour the client is built with.
    //     enabled: true,
    //     // Left to the client's built-in default unless collabServerBaseUrl is set here.
    //     collabServerBaseUrl: 'https://excalidraw-backend.example.com',
    //     // Uncomment userLimit and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     userLimit: 25,
    //     // Setting for limitUrl; see the handbook's configuration page.
    //     limitUrl: 'https://example.com/blog/whiteboard-limits',

    //     // Read by the web client (and by the mobile apps where they support storageBackendUrl).
    //     storageBackendUrl: 'https://excalidraw-s3-storage-backend.example.com',
    // },

    // Leave watchRTCConfigParams out to keep the behaviour the client is built with.
    // A stray }; or ]; in a comment ends nothing: only code does.
    // watchRTCConfigParams: {
    // Left to the client's built-in default unless rtcApiKey is set here.
    //         rtcApiKey: string;
    // Uncomment rtcRoomId and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    //         rtcRoomId?: string;
    // Setting for rtcPeerId; see the handbook's configuration page.
    //         rtcPeerId?: string;
    // Read by the web client (and by the mobile apps where they support rtcTags).
    //         rtcTags?: string[];
    // Leave keys out to keep the behaviour the client is built with.
    //         keys?: any;
    // Left to the client's built-in default unless debug is set here.
    //         debug?: boolean;
    //         rtcToken?: string;
    // Uncomment wsUrl and change the value to use it.
    // The value shown is a usual one, not necessarily the default.
    // URLs keep their slashes: https://example.com//path?a=1&b={x} is text here.
    //         wsUrl?: string;
    //         proxyUrl?: string;
    //         console?: {
    //             level: string;
    //             override: boolean;
    //         };
    //         allowBrowserLogCollection?: boolean;
    //         collectionInterval?: number;
    //         logGetStats?: boolean;
    // },

    // Setting for hideLoginButton; see the handbook's configuration page.
    // hideLoginButton: true,

    // Read by the web client (and by the mobile apps where they support disableCameraTintForeground).
    // disableCameraTintForeground: false,

    // Leave fileSharing out to keep the behaviour the client is built with.
    // fileSharing: {
    //     // Left to the client's built-in default unless apiUrl is set here.
    //     apiUrl: 'https://example.com',
    //     // Uncomment enabled and change the value to use it.
    //     // The value shown is a usual one, not necessarily the default.
    //     enabled: true,
    //     // Setting for maxFileSize; see the handbook's configuration page.
    //     maxFileSize: 50,
    // },
};

// Defaults for JaaS (8x8's hosted service); the package flips enableJaaS when asked to.
if (enableJaaS) {
    config.dialInNumbersUrl = 'https://conference-mapper.jitsi.net/v1/access/dids';
    config.dialInConfCodeUrl = 'https://conference-mapper.jitsi.net/v1/access';
    config.roomPasswordNumberOfDigits = 10; // appended once; the package looks for this comment
}
