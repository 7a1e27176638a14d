"""Bridge selection of the jicofo lab stand-in: which bridge a new participant of a conference gets.

Pure logic on the brewery's Bridge objects (jicofo_model.Bridge). The facts, read in jicofo at
7ebb13dc3 (jicofo-selector/src/main/kotlin/org/jitsi/jicofo/bridge/): BridgeSelector.selectBridge
(the candidate filters), Bridge.compare (the order), BridgeSelectionStrategy.select and its helper
filters, SingleBridgeSelectionStrategy and RegionBasedBridgeSelectionStrategy.doSelect,
BridgeConfig.getRegionGroup and createClassInstance; jicofo-common OctoConfig and JicofoConfig
(local-region). The code is the stand-in's own.

Not modelled: correctedStress (the stand-in has no endpoints of its own to add: the reported
stress is used), the per-interval participant limit, the Split, IntraRegion and Visitor strategies
(they are accepted as names, as jicofo starts with them, but the stand-in selects nothing with them).
"""

PACKAGE = "org.jitsi.jicofo.bridge."
STRATEGIES = ("SingleBridgeSelectionStrategy", "SplitBridgeSelectionStrategy",
              "RegionBasedBridgeSelectionStrategy", "IntraRegionBridgeSelectionStrategy",
              "VisitorSelectionStrategy")
MODELLED = ("SingleBridgeSelectionStrategy", "RegionBasedBridgeSelectionStrategy")
# jicofo-selector reference.conf
MAX_BRIDGE_PARTICIPANTS = 80
STRESS_THRESHOLD = 0.8


class UnknownStrategy(Exception):
    """jicofo cannot create the configured strategy class: it does not start."""


def strategy_name(value):
    """createClassInstance: the name in jicofo's bridge package, else a fully qualified class name.
    Returns the class's simple name (what /debug shows)."""
    text = str(value).strip()
    if text in STRATEGIES:
        return text
    if text.startswith(PACKAGE) and text[len(PACKAGE):] in STRATEGIES:
        return text[len(PACKAGE):]
    raise UnknownStrategy("java.lang.ClassNotFoundException: %s" % text)


def region_groups(value):
    """jicofo.bridge.region-groups (a list of lists) -> {region: set(group)}."""
    groups = {}
    for group in value or []:
        members = set(str(r) for r in (group if isinstance(group, list) else []))
        for region in members:
            groups[region] = members
    return groups


def region_group(groups, region):
    if region is None:
        return set()
    return groups.get(region, set([region]))


def _priority(bridge):
    if not bridge.operational:
        return 3
    return 2 if bridge.graceful_shutdown else 1


def ordered(bridges):
    """Bridge.compare: operational first, then not in graceful shutdown, then by stress."""
    return sorted(bridges, key=lambda b: (_priority(b), b.stress, b.jid))


class Selector(object):
    """BridgeSelector with its configured strategy. ``settings``: jicofo_model settings."""

    def __init__(self, settings):
        self.strategy = settings.get("bridge.selection-strategy", "SingleBridgeSelectionStrategy")
        self.octo = bool(settings.get("octo.enabled", False))
        self.mixed_versions = bool(settings.get("octo.allow-mixed-versions", False))
        self.local_region = settings.get("local-region")
        self.groups = region_groups(settings.get("bridge.region-groups"))

    # --- BridgeSelector.selectBridge -------------------------------------------------------
    def select(self, bridges, conference, participant_region):
        """The bridge for a new participant, or None. ``conference``: {bridge: participants}."""
        if self.strategy not in MODELLED:
            return None
        version = next(iter(conference)).version if conference else None
        candidates = [b for b in ordered(bridges) if b.operational]
        candidates = [b for b in candidates if not b.shutting_down]
        if version is not None and not self.mixed_versions:
            candidates = [b for b in candidates if b.version == version]
        if not candidates:
            return None
        active = [b for b in candidates if not b.drain]
        candidates = active or candidates
        running = [b for b in candidates if not b.graceful_shutdown]
        candidates = running or candidates
        if conference:
            existing = next(iter(conference))
            if not self.octo or existing.relay_id is None:
                return existing  # "Existing bridge does not have a relay"
        if self.strategy == "SingleBridgeSelectionStrategy":
            return self._single(candidates, conference, participant_region)
        return self._region_based(candidates, conference, participant_region)

    # --- the strategies --------------------------------------------------------------------
    def _overloaded(self, bridge, conference):
        return bridge.stress >= STRESS_THRESHOLD or conference.get(bridge, 0) >= MAX_BRIDGE_PARTICIPANTS

    def _single(self, bridges, conference, region):
        if not conference:
            in_region = [b for b in bridges if region is not None and b.region == region]
            return (in_region or bridges or [None])[0]
        return next(iter(conference)) if len(conference) == 1 else None

    def _region_based(self, bridges, conference, participant_region):
        if not bridges:
            return None
        region = participant_region if participant_region is not None else self.local_region
        group = region_group(self.groups, region)
        if self.local_region is not None:
            if not conference and region != self.local_region and self.local_region in group:
                region = self.local_region
            if not any(b.region in group for b in bridges):
                region = self.local_region
        group = region_group(self.groups, region)
        fresh = [b for b in bridges if not self._overloaded(b, conference)]
        in_conf = [b for b in fresh if b in conference]
        rules = (
            [b for b in in_conf if region is not None and b.region == region],
            [b for b in in_conf if b.region in group],
            [b for b in fresh if region is not None and b.region == region],
            [b for b in fresh if b.region in group],
            in_conf,
            [b for b in bridges if b.stress < STRESS_THRESHOLD],
            [b for b in bridges if b in conference and conference[b] < MAX_BRIDGE_PARTICIPANTS],
            bridges,
        )
        for found in rules:
            if found:
                return found[0]
        return None

    def place(self, bridges, participant_regions):
        """A conference whose participants (their regions, in order) join one by one: where each
        lands, and the relays jicofo opens between the conference's bridges (every pair)."""
        conference = {}
        placed = []
        for region in participant_regions:
            bridge = self.select(bridges, conference, region)
            placed.append({"region": region, "bridge": bridge.jid if bridge else None})
            if bridge is not None:
                conference[bridge] = conference.get(bridge, 0) + 1
        used = [b.jid for b in conference]
        relays = [[a, b] for i, a in enumerate(used) for b in used[i + 1:]]
        return {"strategy": self.strategy, "octo_enabled": self.octo, "local_region": self.local_region,
                "participants": placed, "bridges": used, "relays": relays}
