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

		{"me.get", "GET", "/me", userScopes("me", "get", true), (*Server).getMe},
		{"me.patch", "PATCH", "/me", userScopes("me", "patch", false), (*Server).patchMe},
		{"me.changePassword", "PATCH", "/me/changePassword", userScopes("me", "changePassword", false), (*Server).changePassword},
		// The reference grants refreshToken only to all.User and me.*.
		{"me.refreshToken", "GET", "/me/refreshToken", []string{"all.User", "me.*"}, (*Server).refreshToken},
		{"me.delete", "POST", "/me/delete", userScopes("me", "delete", false), (*Server).deleteMe},

		{"userApiTokens.get", "GET", "/me/tokens", userScopes("userApiTokens", "get", true), (*Server).listTokens},
		{"userApiTokens.post", "POST", "/me/tokens", userScopes("userApiTokens", "post", false), (*Server).createToken},
		{"userApiToken.get", "GET", "/me/tokens/{apiTokenId}", userScopes("userApiToken", "get", true), (*Server).getToken},
		{"userApiToken.patch", "PATCH", "/me/tokens/{apiTokenId}", userScopes("userApiToken", "patch", false), (*Server).patchToken},
		{"userApiToken.delete", "DELETE", "/me/tokens/{apiTokenId}", userScopes("userApiToken", "delete", false), (*Server).deleteToken},
	}
}

// Catalog returns the scopes that grant each action, from the route table.
func Catalog() accountd.Catalog {
	c := accountd.Catalog{}
	for _, rt := range routes() {
		if rt.scopes != nil {
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
