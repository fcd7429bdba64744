package console_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/secret"
	"github.com/accountd/accountd/service"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Browser tests drive a real headless Chromium through the console. Where
// there is none they are skipped, unless CI=true or
// ACCOUNTD_REQUIRE_BROWSER=1 asks for them, which makes a missing browser
// a failure. With ACCOUNTD_SCREENSHOTS=DIR (relative to the repository) they
// also save PNGs of the main pages there.

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" || os.Getenv("ACCOUNTD_REQUIRE_BROWSER") == "1" {
		t.Fatal("no chromium found, and CI or ACCOUNTD_REQUIRE_BROWSER asks for the browser tests (apt-get install chromium)")
	}
	t.Skip("no chromium found: browser tests skipped (apt-get install chromium, or set ACCOUNTD_REQUIRE_BROWSER=1 to fail instead)")
	return ""
}

// browserBound is how long the whole browser test may take.
const browserBound = 5 * time.Minute

// newBrowser starts a fresh headless Chromium for the test and returns a
// tab's context, bounded in time.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := chromiumPath(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
	)
	// chromedp's own complaints go to the test log while the test runs
	var mu sync.Mutex
	running := true
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if running {
			t.Logf("chromedp: "+format, args...)
		}
	}
	tab, cancelTab := chromedp.NewContext(alloc, chromedp.WithErrorf(logf))
	// a bound, not a measure: on a loaded machine (the whole suite under
	// -race beside a browser) the steps take many times longer than alone
	bounded, cancelTime := context.WithTimeout(tab, browserBound)
	t.Cleanup(func() {
		mu.Lock()
		running = false
		mu.Unlock()
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(bounded, chromedp.EmulateViewport(1100, 900)); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return bounded
}

// b is a browser session of one test.
type b struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func (b b) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		html, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
		b.t.Fatalf("browser at %s: %v\npage text:\n%s", loc, err, html)
	}
}

func (b b) open(path string) { b.t.Helper(); b.do(chromedp.Navigate(b.base + path)) }

// at waits until the browser shows path (and the page has loaded). It
// asks again when a navigation cuts a question short.
func (b b) at(path string) {
	b.t.Helper()
	expr := fmt.Sprintf("location.pathname === %q && document.readyState === 'complete'", path)
	deadline := time.Now().Add(browserBound / 2)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			loc, _ := chromedp.Run(b.ctx, chromedp.Location())
			b.t.Fatalf("waiting for %s, the browser is at %s (%v)", path, loc, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// text reads an element's text once it is there. A form that answers on
// the page it was sent from leaves the old page up for a moment: a read cut
// short by the navigation is asked again.
func (b b) text(css string) string {
	b.t.Helper()
	deadline := time.Now().Add(browserBound / 2)
	for {
		s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(css)))
		if err == nil {
			return strings.TrimSpace(s)
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			b.t.Fatalf("reading %s: %v", css, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fill sets a field's value (typing key by key is tried once, on the
// sign-in form, as it costs two browser round trips a character).
func (b b) fill(css, value string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(css), value))
}

func (b b) click(css string) { b.t.Helper(); b.do(chromedp.Click(chromedp.CSS(css))) }

// wantText waits a little for css to say want: the page it is on may still
// be the one the last form was sent from.
func (b b) wantText(css, want string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := b.text(css)
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s says %q, want it to contain %q", css, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// shot saves a screenshot of the whole page when ACCOUNTD_SCREENSHOTS
// names a folder.
func (b b) shot(name string) { b.t.Helper(); b.save(name, chromedp.FullScreenshot(100)) }

// screen saves what is on the screen, as a person sees it before scrolling.
func (b b) screen(name string) { b.t.Helper(); b.save(name, chromedp.CaptureScreenshot()) }

func (b b) save(name string, capture chromedp.Action[[]byte]) {
	b.t.Helper()
	dir := os.Getenv("ACCOUNTD_SCREENSHOTS")
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir) // tests run in console/
	}
	png, err := chromedp.Run(b.ctx, capture)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "console-"+name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func TestBrowser(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	clock := testenv.NewClock(time.Now())
	env := testenv.Start(t, "sqlite", testenv.Options{Clock: clock.Now})
	id := env.User(t, "ada@example.com")
	env.User(t, "grace@example.com")
	br := b{t: t, ctx: ctx, base: env.URL}

	// someone else's organization invites ada
	grace := env.Login(t, "grace@example.com")
	org, err := grace.Orgs.Post(context.Background(), client.OrgPost{Name: "Analytical Engines"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := grace.Org.InviteMember(context.Background(), org.ID, client.OrgInvitePost{Email: "ada@example.com", Role: "edit"}); err != nil {
		t.Fatal(err)
	}

	// a signed-out visit goes to the sign-in page and comes back after
	br.open("/account/tokens")
	br.at("/account/login")
	br.shot("login")
	br.fill("#login-email", "ada@example.com")
	br.fill("#login-password", testenv.Password)
	br.click("button.primary")
	br.at("/account/tokens")

	// edit the profile
	br.open("/account")
	br.fill("#pf-firstName", "Augusta Ada")
	br.fill("#pf-lastName", "King")
	br.fill("#pf-title", "Countess of Lovelace")
	br.click(`form[action="/account/profile"] button`)
	br.at("/account")
	br.wantText("p.notice", "Your profile is saved.")
	u, err := env.Store.User(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if u.FirstName != "Augusta Ada" || u.LastName != "King" || u.Title != "Countess of Lovelace" {
		t.Fatalf("profile after saving: %q %q %q", u.FirstName, u.LastName, u.Title)
	}

	// invitations: accept
	br.open("/account/invitations")
	br.wantText("section.invite h2", "Analytical Engines")
	br.shot("invitations")
	br.click(`section.invite button[value="accept"]`)
	br.at("/account/organizations")
	br.wantText("p.notice", "You joined the organization.")
	br.wantText("table", "Analytical Engines")
	br.shot("organizations")

	// a token: create it with one scope, use it against the API, revoke it
	br.open("/account/tokens")
	br.fill("#tk-name", "dashboard reader")
	br.click(`input[value="me.get"]`)
	br.click(`input[value="applications.*"]`)
	br.click(`input[value="devices.*"]`)
	br.click(`input[value="device.*"]`)
	br.click(`form[action="/account/tokens"] button.primary`)
	br.at("/account/tokens")
	value := br.text("#token-value")
	br.shot("token-created")
	api := env.Client(t, value)
	if me, err := api.Me.Get(context.Background(), nil); err != nil || me.Email != "ada@example.com" {
		t.Fatalf("GET /me with the new token: %v, %+v", err, me)
	}
	title := "x"
	if _, err := api.Me.Patch(context.Background(), client.MePatch{Title: &title}, nil); !errors.Is(err, accountd.ErrForbidden) {
		t.Fatalf("PATCH /me with a me.get token: %v, want 403", err)
	}
	// usage through the token, to chart
	app, err := api.Applications.Post(context.Background(), client.OwnedPost{Name: "Weather"})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := api.Devices.Post(context.Background(), app.ID, client.DevicePost{Name: "probe-1"})
	if err != nil {
		t.Fatal(err)
	}
	state := client.DeviceState{Data: map[string]any{"temp": 21.5}}
	for range 4 {
		if err := api.Device.SendState(context.Background(), app.ID, dev.ID, state, state, state); err != nil {
			t.Fatal(err)
		}
	}
	// and a week of what other platform services report
	var events []string
	for d := range 7 {
		at := clock.Now().AddDate(0, 0, -d).UnixMilli()
		events = append(events,
			fmt.Sprintf(`{"id":"mqtt:%d","kind":"payload","time":%d,"applicationId":"%s","type":"mqttIn","source":"mqtt","count":%d,"bytes":%d}`, d, at, app.ID, 40+d*7%5*9, 4096),
			fmt.Sprintf(`{"id":"hook:%d","kind":"payload","time":%d,"applicationId":"%s","type":"webhook","source":"webhook","count":%d,"bytes":%d}`, d, at, app.ID, 10+d*3%4*5, 2048),
			fmt.Sprintf(`{"id":"nb:%d","kind":"notebookRun","time":%d,"applicationId":"%s","minutes":%d.5,"status":"completed"}`, d, at, app.ID, 1+d%3))
	}
	req, err := http.NewRequest("POST", env.URL+"/usage/events", strings.NewReader(`{"events":[`+strings.Join(events, ",")+`]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+env.UsageKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reporting usage: %s", resp.Status)
	}
	br.open("/account/tokens")
	br.wantText("tbody", "dashboard reader")
	br.shot("tokens")
	br.click(`button[aria-label="Delete dashboard reader"]`)
	br.at("/account/tokens")
	br.wantText("p.notice", "The token is deleted.")
	if _, err := api.Me.Get(context.Background(), nil); !errors.Is(err, accountd.ErrUnauthorized) {
		t.Fatalf("GET /me with the deleted token: %v, want 401", err)
	}

	// usage
	br.open("/account/usage?range=7d")
	br.do(chromedp.WaitVisible(chromedp.CSS("svg.chart rect.bar")))
	br.wantText("table.bytype", "deviceState")
	br.wantText("table.bytype", "mqttIn")
	br.wantText("table.bytype", "webhook")
	br.shot("usage")

	// two-factor authentication: scan (read the manual key), confirm with a code
	br.open("/account/security")
	br.shot("security")
	br.click(`form[action="/account/security/2fa/generate"] button`)
	br.at("/account/security/2fa/generate")
	br.do(chromedp.WaitVisible(chromedp.CSS(".qr svg")))
	key := br.text("#totp-key")
	br.shot("two-factor")
	code := func() string {
		clock.Add(secret.TOTPPeriod * time.Second)
		c, err := secret.TOTPCode(key, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	br.fill("#tf-code", code())
	br.fill("#tf-password", testenv.Password)
	br.click(`form[action="/account/security/2fa/enable"] button`)
	br.at("/account/security/2fa/enable")
	codes, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll('#recovery-codes li').length"))
	if err != nil || codes != 10 {
		t.Fatalf("recovery codes shown: %d (%v), want 10", codes, err)
	}
	br.shot("recovery-codes")

	// sign out, and in again with a code
	br.click(`form.signout button`)
	br.at("/account/login")
	br.wantText("p.notice", "You are signed out.")
	// by keyboard alone: type, Tab to the password, Enter submits
	br.do(chromedp.SendKeys(chromedp.CSS("#login-email"), "ada@example.com"))
	br.do(chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(testenv.Password), chromedp.KeyEvent(kb.Enter))
	br.do(chromedp.WaitVisible(chromedp.CSS("#login-code")))
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.activeElement ? document.activeElement.id : ''"))
	if err != nil {
		t.Fatal(err)
	}
	if focused != "login-code" {
		t.Fatalf("the code step starts with focus on %q, want the code field", focused)
	}
	br.do(chromedp.KeyEvent(code()), chromedp.KeyEvent(kb.Enter))
	br.at("/account")
	br.wantText("h1", "Profile")
	br.shot("profile")

	// a narrow phone screen
	br.do(chromedp.EmulateViewport(360, 740))
	br.open("/account")
	br.screen("profile-360")
	br.open("/account/tokens")
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
	if err != nil || width > 360 {
		t.Errorf("at 360 px the page is %d px wide (%v): it scrolls sideways", width, err)
	}
	br.do(chromedp.EmulateViewport(1100, 900))

	// delete the account: refused while it owns an application, with the reason
	br.open("/account/delete")
	br.fill("#del-password", testenv.Password)
	br.fill("#del-code", code())
	br.click(`form[action="/account/delete"] button`)
	br.at("/account/delete")
	br.wantText("p.error", "still owns 1 application")
	a, err := env.Service.Login(context.Background(), service.Credentials{Email: "ada@example.com", Password: testenv.Password, TwoFactorCode: code()})
	if err != nil {
		t.Fatal(err)
	}
	p, err := env.Service.Authenticate(context.Background(), a.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Service.DeleteApplication(context.Background(), p, app.ID); err != nil {
		t.Fatal(err)
	}
	br.fill("#del-password", testenv.Password)
	br.fill("#del-code", code())
	br.click(`form[action="/account/delete"] button`)
	br.at("/account/login")
	br.wantText("p.notice", "Your account is deleted.")
	if _, err := env.Store.User(context.Background(), id); !errors.Is(err, accountd.ErrNotFound) {
		t.Fatalf("the user after deletion: %v, want not found", err)
	}
}
