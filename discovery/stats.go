package discovery

import "errors"

// beaconDropReason maps a decode error to a counter name.
func beaconDropReason(err error) string {
	for _, c := range []struct {
		err  error
		name string
	}{
		{ErrBeaconSize, "beacon_drop_size"}, {ErrBeaconMagic, "beacon_drop_magic"},
		{ErrBeaconVersion, "beacon_drop_version"}, {ErrBeaconKind, "beacon_drop_kind"},
		{ErrBeaconFormat, "beacon_drop_malformed"}, {ErrBeaconSig, "beacon_drop_forged"},
	} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	return "beacon_drop_other"
}
