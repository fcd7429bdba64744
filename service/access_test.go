package service

import (
	"testing"

	"github.com/accountd/accountd"
)

// TestRoleAllows pins down what each organization role may do: the one
// table every organization and resource rule goes through.
func TestRoleAllows(t *testing.T) {
	want := map[accountd.Role][]op{
		accountd.RoleView:        {opRead},
		accountd.RoleCollaborate: {opRead, opWrite},
		accountd.RoleEdit:        {opRead, opWrite, opDelete},
		accountd.RoleAdmin:       {opRead, opWrite, opDelete, opAdmin},
		"none":                   {},
		"":                       {},
	}
	for role, allowed := range want {
		for _, o := range []op{opRead, opWrite, opDelete, opAdmin} {
			got := roleAllows(role, o)
			exp := false
			for _, a := range allowed {
				exp = exp || a == o
			}
			if got != exp {
				t.Errorf("roleAllows(%q, %s) = %v, want %v", role, o, got, exp)
			}
		}
	}
}

func TestCheckRecent(t *testing.T) {
	app := "5f0000000000000000000000"
	for _, tc := range []struct {
		itemType, parentID string
		field              string // "" for valid
	}{
		{accountd.KindApplication, "", ""},
		{accountd.KindOrganization, "", ""},
		{accountd.KindDevice, app, ""},
		{accountd.KindFlow, app, ""},
		{accountd.KindDevice, "", "parentId"},
		{accountd.KindDashboard, app, "parentId"},
		{accountd.KindFlow, "xyz", "parentId"},
		{"widget", "", "itemType"},
	} {
		err := checkRecent(tc.itemType, tc.parentID)
		var field string
		if e, ok := err.(*accountd.Error); ok {
			field = e.Field
		}
		if field != tc.field || (tc.field == "") != (err == nil) {
			t.Errorf("checkRecent(%q, %q) = %v, want an error on %q", tc.itemType, tc.parentID, err, tc.field)
		}
	}
}

// TestResourceRole: a role on one resource replaces the organization role,
// but for admins, who keep every right.
func TestResourceRole(t *testing.T) {
	for _, tc := range []struct {
		org, res, want accountd.Role
	}{
		{accountd.RoleNone, "", accountd.RoleNone},
		{accountd.RoleNone, accountd.RoleView, accountd.RoleView},
		{accountd.RoleView, accountd.RoleNone, accountd.RoleNone},
		{accountd.RoleEdit, accountd.RoleView, accountd.RoleView},
		{accountd.RoleView, accountd.RoleCollaborate, accountd.RoleCollaborate},
		{accountd.RoleAdmin, accountd.RoleNone, accountd.RoleAdmin},
		{accountd.RoleEdit, "", accountd.RoleEdit},
	} {
		if got := resourceRole(tc.org, tc.res); got != tc.want {
			t.Errorf("resourceRole(%q, %q) = %q, want %q", tc.org, tc.res, got, tc.want)
		}
	}
}
