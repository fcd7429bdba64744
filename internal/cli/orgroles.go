package cli

import (
	"fmt"
	"strings"

	"github.com/accountd/accountd/client"
	"github.com/spf13/pflag"
)

// resourceRoleFlags are --app-role and --dashboard-role: ID=ROLE, once per
// resource.
type resourceRoleFlags struct {
	apps, dashes []string
}

func (f *resourceRoleFlags) register(fs *pflag.FlagSet, verb string) {
	fs.StringArrayVar(&f.apps, "app-role", nil, "APP_ID=ROLE (collaborate, view or none): a role on one application of the organization, in place of the organization role; repeat for more"+verb)
	fs.StringArrayVar(&f.dashes, "dashboard-role", nil, "DASHBOARD_ID=ROLE: likewise for one dashboard"+verb)
}

// parseResourceRoles reads ID=ROLE values; an empty value is skipped, so
// that --app-role= names no resource (and clears them in set-role).
func parseResourceRoles(flag string, values []string) ([]client.ResourceRole, error) {
	out := []client.ResourceRole{}
	for _, v := range values {
		if v == "" {
			continue
		}
		id, role, ok := strings.Cut(v, "=")
		if !ok || id == "" || role == "" {
			return nil, usageError{fmt.Errorf("--%s: %q is not ID=ROLE", flag, v)}
		}
		out = append(out, client.ResourceRole{ResourceID: id, Role: role})
	}
	return out, nil
}

// resourceRolesText shows a member's per-resource roles in a table cell.
func resourceRolesText(m client.Member) string {
	var parts []string
	for _, r := range m.ApplicationRoles {
		parts = append(parts, "app "+r.ResourceID+"="+r.Role)
	}
	for _, r := range m.DashboardRoles {
		parts = append(parts, "dashboard "+r.ResourceID+"="+r.Role)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
