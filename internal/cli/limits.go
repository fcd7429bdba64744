package cli

import (
	"fmt"

	"github.com/accountd/accountd/service"
	"github.com/spf13/pflag"
)

// limitFlags are the operator's limits on what each user and each
// organization may have (service.Limits); 0 is no limit.
type limitFlags struct {
	user, org service.Limits
}

func (f *limitFlags) register(fs *pflag.FlagSet) {
	fs.IntVar(&f.user.Applications, "limit-user-applications", 0, "applications each user may own (0: no limit)")
	fs.IntVar(&f.user.Dashboards, "limit-user-dashboards", 0, "dashboards each user may own (0: no limit)")
	fs.IntVar(&f.user.Devices, "limit-user-devices", 0, "devices the applications each user owns may hold together (0: no limit)")
	fs.IntVar(&f.user.Organizations, "limit-user-organizations", 0, "organizations each user may create or join (0: no limit)")
	fs.IntVar(&f.user.APITokens, "limit-user-api-tokens", 0, "API tokens each user may have (0: no limit)")
	fs.IntVar(&f.org.Applications, "limit-org-applications", 0, "applications each organization may own (0: no limit)")
	fs.IntVar(&f.org.Dashboards, "limit-org-dashboards", 0, "dashboards each organization may own (0: no limit)")
	fs.IntVar(&f.org.Devices, "limit-org-devices", 0, "devices the applications each organization owns may hold together (0: no limit)")
}

func (f *limitFlags) config() (service.LimitsConfig, error) {
	for _, l := range []struct {
		flag string
		n    int
	}{
		{"limit-user-applications", f.user.Applications}, {"limit-user-dashboards", f.user.Dashboards},
		{"limit-user-devices", f.user.Devices}, {"limit-user-organizations", f.user.Organizations},
		{"limit-user-api-tokens", f.user.APITokens}, {"limit-org-applications", f.org.Applications},
		{"limit-org-dashboards", f.org.Dashboards}, {"limit-org-devices", f.org.Devices},
	} {
		if l.n < 0 {
			return service.LimitsConfig{}, usageError{fmt.Errorf("--%s: must be 0 (no limit) or more", l.flag)}
		}
	}
	return service.LimitsConfig{User: f.user, Org: f.org}, nil
}
