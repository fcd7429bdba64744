package httpapi

import (
	"net/http"

	"github.com/accountd/accountd"
)

// route is one action of the API: the table below is the table of contents
// of the service, and the only place that says which scopes grant what.
type route struct {
	action  string // reference action name, e.g. "me.get"
	method  string
	path    string   // net/http pattern path, with {param} wildcards
	scopes  []string // nil: no token needed
	handler func(*Server, http.ResponseWriter, *http.Request) error
}

// userScopes lists the scopes that grant resource.action to a user token:
// all.User always, all.User.read for reads, then resource.* and the action's
// own scope, as the reference documents them.
func userScopes(resource, action string, read bool) []string {
	s := []string{"all.User"}
	if read {
		s = append(s, "all.User.read")
	}
	return append(s, resource+".*", resource+"."+action)
}

func routes() []route {
	return []route{
		{"auth.authenticateUser", "POST", "/auth/user", nil, (*Server).login},
		{"github.authenticateUser", "POST", "/auth/user/github", nil, (*Server).loginGithub},

		{"me.get", "GET", "/me", userScopes("me", "get", true), (*Server).getMe},
		{"me.patch", "PATCH", "/me", userScopes("me", "patch", false), (*Server).patchMe},
		{"me.changePassword", "PATCH", "/me/changePassword", userScopes("me", "changePassword", false), (*Server).changePassword},
		// The reference grants refreshToken only to all.User and me.*.
		{"me.refreshToken", "GET", "/me/refreshToken", []string{"all.User", "me.*"}, (*Server).refreshToken},
		{"me.delete", "POST", "/me/delete", userScopes("me", "delete", false), (*Server).deleteMe},
		{"me.generateTwoFactorAuth", "PATCH", "/me/generateTwoFactorAuth", userScopes("me", "generateTwoFactorAuth", false), (*Server).generateTwoFactorAuth},
		{"me.enableTwoFactorAuth", "PATCH", "/me/enableTwoFactorAuth", userScopes("me", "enableTwoFactorAuth", false), (*Server).enableTwoFactorAuth},
		{"me.disableTwoFactorAuth", "PATCH", "/me/disableTwoFactorAuth", userScopes("me", "disableTwoFactorAuth", false), (*Server).disableTwoFactorAuth},
		{"me.verifyEmail", "POST", "/me/verify-email", userScopes("me", "verifyEmail", false), (*Server).verifyEmail},
		{"me.disconnectGithub", "PATCH", "/me/disconnectGithub", userScopes("me", "disconnectGithub", false), (*Server).disconnectGithub},
		// accountd extensions (security.go): no scope of their own, so
		// all.User and me.* grant them, as they do refreshToken.
		{"recoveryCodes.regenerate", "POST", "/me/recoveryCodes", []string{"all.User", "me.*"}, (*Server).regenerateRecoveryCodes},
		{"github.connect", "POST", "/me/connectGithub", []string{"all.User", "me.*"}, (*Server).connectGithub},
		{"github.callback", "GET", "/auth/github/callback", nil, (*Server).githubCallback},
		{"github.confirm", "POST", "/auth/github/callback", nil, (*Server).githubConfirm},
		{"emailVerification.page", "GET", "/verify-email", nil, (*Server).verifyEmailPage},
		{"emailVerification.confirm", "POST", "/verify-email", nil, (*Server).confirmEmail},

		{"userApiTokens.get", "GET", "/me/tokens", userScopes("userApiTokens", "get", true), (*Server).listTokens},
		{"userApiTokens.post", "POST", "/me/tokens", userScopes("userApiTokens", "post", false), (*Server).createToken},
		{"userApiToken.get", "GET", "/me/tokens/{apiTokenId}", userScopes("userApiToken", "get", true), (*Server).getToken},
		{"userApiToken.patch", "PATCH", "/me/tokens/{apiTokenId}", userScopes("userApiToken", "patch", false), (*Server).patchToken},
		{"userApiToken.delete", "DELETE", "/me/tokens/{apiTokenId}", userScopes("userApiToken", "delete", false), (*Server).deleteToken},

		// Organizations, invitations, resources, recent items, transfers
		// (orgs.go, resources.go). The reference names only each supporting
		// action's own scope; like the Me actions they are granted by
		// all.User (and all.User.read for reads) and resource.* too.
		{"me.invites", "GET", "/me/invites", userScopes("me", "invites", true), (*Server).myInvites},
		{"me.invite", "GET", "/me/invites/{inviteId}", userScopes("me", "invite", true), (*Server).myInvite},
		{"me.respondToInvite", "POST", "/me/invites/{inviteId}", userScopes("me", "respondToInvite", false), (*Server).respondToInvite},
		{"me.addRecentItem", "POST", "/me/recentItems", userScopes("me", "addRecentItem", false), (*Server).addRecentItem},
		{"me.fetchRecentItems", "GET", "/me/recentItems", userScopes("me", "fetchRecentItems", true), (*Server).fetchRecentItems},
		{"me.transferResources", "PATCH", "/me/transferResources", userScopes("me", "transferResources", false), (*Server).transferResources},
		// Usage metering (usage.go), scopes as the reference lists them.
		{"me.payloadCounts", "GET", "/me/payloadCounts", userScopes("me", "payloadCounts", true), (*Server).payloadCounts},
		{"me.payloadCountsBreakdown", "GET", "/me/payloadCountsBreakdown", userScopes("me", "payloadCountsBreakdown", true), (*Server).payloadCountsBreakdown},
		{"me.deviceCounts", "GET", "/me/deviceCounts", userScopes("me", "deviceCounts", true), (*Server).deviceCounts},
		{"me.notebookMinuteCounts", "GET", "/me/notebookMinuteCounts", userScopes("me", "notebookMinuteCounts", true), (*Server).notebookMinuteCounts},
		// Platform services report usage with a usage key (serviceActions),
		// never a user token.
		{"usage.record", "POST", "/usage/events", []string{"usage.record"}, (*Server).recordUsage},
		{"orgs.get", "GET", "/orgs", userScopes("orgs", "get", true), (*Server).listOrgs},
		{"orgs.post", "POST", "/orgs", userScopes("orgs", "post", false), (*Server).createOrg},
		{"org.get", "GET", "/orgs/{orgId}", userScopes("org", "get", true), (*Server).getOrg},
		{"org.delete", "DELETE", "/orgs/{orgId}", userScopes("org", "delete", false), (*Server).deleteOrg},
		{"org.pendingInvites", "GET", "/orgs/{orgId}/invites", userScopes("org", "pendingInvites", true), (*Server).pendingInvites},
		{"org.inviteMember", "POST", "/orgs/{orgId}/invites", userScopes("org", "inviteMember", false), (*Server).inviteMember},
		{"org.revokeInvite", "DELETE", "/orgs/{orgId}/invites", userScopes("org", "revokeInvite", false), (*Server).revokeInvite},
		{"org.modifyMember", "PATCH", "/orgs/{orgId}/member", userScopes("org", "modifyMember", false), (*Server).modifyMember},
		{"org.removeMember", "DELETE", "/orgs/{orgId}/member", userScopes("org", "removeMember", false), (*Server).removeMember},
		{"applications.get", "GET", "/applications", userScopes("applications", "get", true), (*Server).listApplications},
		{"applications.post", "POST", "/applications", userScopes("applications", "post", false), (*Server).createApplication},
		{"application.get", "GET", "/applications/{applicationId}", userScopes("application", "get", true), (*Server).getApplication},
		{"application.delete", "DELETE", "/applications/{applicationId}", userScopes("application", "delete", false), (*Server).deleteApplication},
		{"devices.get", "GET", "/applications/{applicationId}/devices", userScopes("devices", "get", true), (*Server).listDevices},
		{"devices.post", "POST", "/applications/{applicationId}/devices", userScopes("devices", "post", false), (*Server).createDevice},
		{"device.get", "GET", "/applications/{applicationId}/devices/{deviceId}", userScopes("device", "get", true), (*Server).getDevice},
		{"device.delete", "DELETE", "/applications/{applicationId}/devices/{deviceId}", userScopes("device", "delete", false), (*Server).deleteDevice},
		// The reference names only device.sendState; like the other
		// resource actions all.User and device.* grant it too.
		{"device.sendState", "POST", "/applications/{applicationId}/devices/{deviceId}/state", userScopes("device", "sendState", false), (*Server).sendState},
		{"flows.get", "GET", "/applications/{applicationId}/flows", userScopes("flows", "get", true), (*Server).listFlows},
		{"flows.post", "POST", "/applications/{applicationId}/flows", userScopes("flows", "post", false), (*Server).createFlow},
		{"flow.get", "GET", "/applications/{applicationId}/flows/{flowId}", userScopes("flow", "get", true), (*Server).getFlow},
		{"flow.delete", "DELETE", "/applications/{applicationId}/flows/{flowId}", userScopes("flow", "delete", false), (*Server).deleteFlow},
		{"dashboards.get", "GET", "/dashboards", userScopes("dashboards", "get", true), (*Server).listDashboards},
		{"dashboards.post", "POST", "/dashboards", userScopes("dashboards", "post", false), (*Server).createDashboard},
		{"dashboard.get", "GET", "/dashboards/{dashboardId}", userScopes("dashboard", "get", true), (*Server).getDashboard},
		{"dashboard.delete", "DELETE", "/dashboards/{dashboardId}", userScopes("dashboard", "delete", false), (*Server).deleteDashboard},
		// Login sessions (sessions.go), accountd extensions scoped like the
		// Me actions, each with its own scope name.
		{"sessions.get", "GET", "/me/sessions", userScopes("me", "sessions", true), (*Server).listSessions},
		{"sessions.revokeOthers", "DELETE", "/me/sessions", userScopes("me", "revokeOtherSessions", false), (*Server).revokeOtherSessions},
		{"session.revoke", "DELETE", "/me/sessions/{sessionId}", userScopes("me", "revokeSession", false), (*Server).revokeSession},
		// The security log (seclog.go), an accountd extension scoped like
		// the Me actions.
		{"securityLog.get", "GET", "/me/securityLog", userScopes("me", "securityLog", true), (*Server).securityLog},
	}
}

// Catalog returns the scopes that grant each action to a user token, from
// the route table; actions for platform services are not in it.
func Catalog() accountd.Catalog {
	c := accountd.Catalog{}
	for _, rt := range routes() {
		if rt.scopes != nil && !serviceActions[rt.action] {
			c[rt.action] = rt.scopes
		}
	}
	return c
}

// Action describes one served action, for tests and documentation.
type Action struct {
	Name, Method, Path string
	Scopes             []string // empty: no token needed
}

// Actions lists every action the server serves, in table order.
func Actions() []Action {
	var out []Action
	for _, rt := range routes() {
		out = append(out, Action{Name: rt.action, Method: rt.method, Path: rt.path, Scopes: rt.scopes})
	}
	return out
}
