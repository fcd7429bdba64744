package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accountd/accountd/httpapi"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/secret"
	"github.com/accountd/accountd/service"
	"github.com/accountd/accountd/sqlite"
)

// The fuzz targets send what they are given through the real handler
// stack (middleware, authentication, decoding, service, SQLite store) and
// hold every answer to two rules: it is not a 5xx (a panic is recovered
// into a 500, so it counts too), and an error answer is a JSON
// {"type", "message"}. The seed corpora are in testdata/fuzz; `go test`
// runs them as tests, and scripts/test.sh fuzzes each target briefly.

// fuzzEnv is one server, its user and what the user owns.
type fuzzEnv struct {
	h                  http.Handler
	session, usageKey  string
	app, device, token string // an application, its device, an API token id
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	f.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	k, err := secret.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	keys, _ := secret.NewKeyring(k)
	usageKey, line, err := service.NewUsageKey(rand.Reader, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	usageKeys, err := service.ParseUsageKeys(strings.NewReader(line))
	if err != nil {
		f.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	svc, err := service.New(service.Config{Store: st, Keys: keys, Catalog: httpapi.Catalog(), Logger: log, Hash: testenv.CheapHash,
		Usage: service.UsageConfig{Keys: usageKeys}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(svc.Close)
	h, err := httpapi.NewServer(httpapi.Config{Service: svc, Logger: log, Ready: st.Ping})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, service.NewUser{Email: "fuzz@example.com", Password: testenv.Password, FirstName: "Fuzz", Verified: true}); err != nil {
		f.Fatal(err)
	}
	e := &fuzzEnv{h: h, usageKey: usageKey}
	var login struct{ Token string }
	e.must(f, "POST", "/auth/user", "", `{"email":"fuzz@example.com","password":"`+testenv.Password+`"}`, &login)
	e.session = login.Token
	var obj struct{ ID string }
	e.must(f, "POST", "/applications", e.session, `{"name":"fuzz"}`, &obj)
	e.app = obj.ID
	e.must(f, "POST", "/applications/"+e.app+"/devices", e.session, `{"name":"probe"}`, &obj)
	e.device = obj.ID
	e.must(f, "POST", "/me/tokens", e.session, `{"name":"fuzz","scope":["all.User"]}`, &obj)
	e.token = obj.ID
	return e
}

// serve runs one request through the handler.
func (e *fuzzEnv) serve(req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w
}

func (e *fuzzEnv) request(method, target, token string, body []byte) *http.Request {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// must sends a request that has to succeed and decodes its answer.
func (e *fuzzEnv) must(f *testing.F, method, path, token, body string, out any) {
	f.Helper()
	w := e.serve(e.request(method, path, token, []byte(body)))
	if w.Code/100 != 2 || json.Unmarshal(w.Body.Bytes(), out) != nil {
		f.Fatalf("%s %s = %d %s", method, path, w.Code, w.Body)
	}
}

// check holds an answer to the rules.
func check(t *testing.T, req *http.Request, w *httptest.ResponseRecorder, input any) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%s %s answered %d %s for %q", req.Method, req.URL, w.Code, w.Body, input)
	}
	if w.Code >= 400 {
		var e struct{ Type, Message string }
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Type == "" || e.Message == "" {
			t.Fatalf("%s %s answered %d with %q, not {type, message}, for %q", req.Method, req.URL, w.Code, w.Body, input)
		}
	}
}

// bodyTargets are the actions FuzzJSONBody sends bodies to; the fuzzer
// picks one by index.
func (e *fuzzEnv) bodyTargets() []struct{ method, path, token string } {
	return []struct{ method, path, token string }{
		{"POST", "/auth/user", ""},
		{"PATCH", "/me", e.session},
		{"POST", "/me/tokens", e.session},
		{"PATCH", "/me/tokens/" + e.token, e.session},
		{"POST", "/applications/" + e.app + "/devices/" + e.device + "/state", e.session},
		{"POST", "/usage/events", e.usageKey},
		{"POST", "/applications", e.session},
		{"PATCH", "/me/changePassword", e.session},
		{"POST", "/me/recentItems", e.session},
		{"PATCH", "/me/transferResources", e.session},
	}
}

// FuzzJSONBody sends request bodies to the actions that decode them.
func FuzzJSONBody(f *testing.F) {
	e := newFuzzEnv(f)
	targets := e.bodyTargets()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		tg := targets[int(which)%len(targets)]
		req := e.request(tg.method, tg.path, tg.token, body)
		check(t, req, e.serve(req), body)
	})
}

// queryTargets are the actions FuzzQuery sends query strings to.
func (e *fuzzEnv) queryTargets() []string {
	return []string{
		"/me",
		"/me/payloadCounts",
		"/me/payloadCountsBreakdown",
		"/me/deviceCounts",
		"/me/notebookMinuteCounts",
		"/me/tokens",
		"/applications",
		"/applications/" + e.app + "/devices",
		"/dashboards",
		"/me/recentItems",
		"/orgs",
	}
}

// FuzzQuery sends query strings to the actions that read them: GET /me's
// summaryInclude and summaryExclude, usage ranges and resolutions, list
// paging, sorting and filtering.
func FuzzQuery(f *testing.F) {
	e := newFuzzEnv(f)
	targets := e.queryTargets()
	f.Fuzz(func(t *testing.T, which uint8, query string) {
		target := targets[int(which)%len(targets)] + "?" + query
		if !requestable(target) {
			return // no client can send it
		}
		req := e.request("GET", target, e.session, nil)
		check(t, req, e.serve(req), query)
	})
}

// requestable reports whether target can stand in an HTTP request line:
// no spaces or control characters, and a URL net/http parses.
func requestable(target string) bool {
	for i := 0; i < len(target); i++ {
		if c := target[i]; c <= ' ' || c == 0x7f || c == '#' {
			return false
		}
	}
	_, err := url.ParseRequestURI(target)
	return err == nil
}

// FuzzAuthorization sends Authorization header values to an action of
// each kind of credential: user tokens (GET /me, GET /me/tokens) and usage
// keys (POST /usage/events).
func FuzzAuthorization(f *testing.F) {
	e := newFuzzEnv(f)
	events := []byte(`{"events":[{"id":"fuzz-auth","kind":"payload","time":1763856000000,"applicationId":"` + e.app + `","type":"mqttIn","source":"mqtt","count":1,"bytes":1}]}`)
	f.Fuzz(func(t *testing.T, which uint8, header string) {
		for i := 0; i < len(header); i++ {
			if c := header[i]; (c < ' ' && c != '\t') || c == 0x7f {
				return // net/http refuses such a header value before any handler
			}
		}
		var req *http.Request
		switch which % 3 {
		case 0:
			req = e.request("GET", "/me", "", nil)
		case 1:
			req = e.request("GET", "/me/tokens", "", nil)
		default:
			req = e.request("POST", "/usage/events", "", events)
		}
		req.Header.Set("Authorization", header)
		check(t, req, e.serve(req), header)
	})
}

// FuzzAdvancedQuery sends advanced queries (the query parameter, as the
// official clients send it: JSON text) to the device and flow lists, where
// they are parsed, checked and turned into SQL.
func FuzzAdvancedQuery(f *testing.F) {
	e := newFuzzEnv(f)
	lists := []string{"/applications/" + e.app + "/devices", "/applications/" + e.app + "/flows"}
	f.Fuzz(func(t *testing.T, which uint8, query string) {
		target := lists[int(which)%len(lists)] + "?query=" + url.QueryEscape(query)
		req := e.request("GET", target, e.session, nil)
		check(t, req, e.serve(req), query)
	})
}
