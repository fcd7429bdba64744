package console

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/httpx"
)

// parsePages parses every page with the layout: each page file defines
// "content", executed inside "layout".
func parsePages() (map[string]*template.Template, error) {
	layout, err := fs.ReadFile(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" {
			continue
		}
		body, err := fs.ReadFile(templateFS, f)
		if err != nil {
			return nil, err
		}
		t, err := template.New("layout").Funcs(funcs).Parse(string(layout))
		if err != nil {
			return nil, fmt.Errorf("console: layout: %w", err)
		}
		if _, err := t.New(name).Parse(string(body)); err != nil {
			return nil, fmt.Errorf("console: %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"day":  func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"join": strings.Join,
	"num":  formatCount,
	"input": func(f form, id, name, label, typ, auto, hint string, req bool) fieldArgs {
		return fieldArgs{F: f, ID: id, Name: name, Label: label, Type: typ, Auto: auto, Hint: hint, Req: req}
	},
}

// fieldArgs is what the "field" template draws: a labelled input with its
// error or hint.
type fieldArgs struct {
	F                                 form
	ID, Name, Label, Type, Auto, Hint string
	Req                               bool
}

// formatCount writes n with thin groupings: 1 234 567.
func formatCount(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// form is one form's values and errors, kept to render it again.
type form struct {
	Values url.Values
	Errors map[string]string
	Error  string // not about one field
}

func (f form) Value(name string) string { return f.Values.Get(name) }
func (f form) Err(name string) string   { return f.Errors[name] }
func (f form) Has(name, value string) bool {
	for _, v := range f.Values[name] {
		if v == value {
			return true
		}
	}
	return false
}

// view is what every page renders from.
type view struct {
	Title   string
	Nav     string // which tab is current
	User    *accountd.User
	CSRF    string
	Notice  string // what just happened, from a redirect
	Warning string
	Forms   map[string]form
	Page    any
}

// F returns the named form, empty if there is none.
func (v *view) F(name string) form { return v.Forms[name] }

func (v *view) setForm(name string, f form) {
	if v.Forms == nil {
		v.Forms = map[string]form{}
	}
	v.Forms[name] = f
}

// secretFields are never written back into a form.
var secretFields = []string{"password", "newPassword", "confirmPassword", "currentPassword", "code", "csrf", "pending"}

// formError turns err into the named form's error, shown beside its field
// (aliases maps the service's field names to the form's), with what was
// typed kept except secrets. It returns the status to answer with, and
// false for errors that are not the user's to fix.
func formError(err error, values url.Values, aliases map[string]string) (form, int, bool) {
	var e *accountd.Error
	if !errors.As(err, &e) || statusOf(e.Code) == http.StatusInternalServerError {
		return form{}, 0, false
	}
	kept := url.Values{}
	for k, v := range values {
		kept[k] = v
	}
	for _, k := range secretFields {
		delete(kept, k)
	}
	f := form{Values: kept, Errors: map[string]string{}}
	field := e.Field
	a, aliased := aliases[field]
	if aliased {
		field = a
	} else if i := strings.IndexByte(field, '['); i > 0 {
		field = field[:i] // scope[1] is about the scope checkboxes
	}
	msg := e.Message
	// beside the field when the form has it: it was sent, or the aliases
	// name it (an empty code field may not be sent at all)
	if field != "" && (values.Has(field) || aliased) {
		msg = strings.TrimPrefix(msg, e.Field+": ")
		f.Errors[field] = msg
	} else {
		f.Error = msg
	}
	return f, statusOf(e.Code), true
}

// statusOf is the status a page answers with for an error code: the
// API's (internal/httpx).
func statusOf(code accountd.Code) int { return httpx.Status(code) }

// render writes the page; the page is built in memory first so an error
// in a template never leaves half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	t := c.pages[page]
	if t == nil {
		c.fail(w, r, fmt.Errorf("console: no page %q", page))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers a failure that is not the user's to fix: logged with an id
// the person can quote, shown without detail.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	id := c.newID()
	c.log.ErrorContext(r.Context(), "console request failed", "err", err, "path", r.URL.Path, "error_id", id)
	v := &view{Title: "Something went wrong", Page: "Something went wrong on our side. If it keeps happening, quote error " + id + " to the operator."}
	t := c.pages["message"]
	var buf bytes.Buffer
	if t == nil || t.ExecuteTemplate(&buf, "layout", v) != nil {
		http.Error(w, v.Page.(string), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	w.Write(buf.Bytes())
}

// message shows a page of text only, for errors with nothing to retry.
func (c *Console) message(w http.ResponseWriter, r *http.Request, status int, v *view, text string) {
	v.Page = text
	c.render(w, r, status, "message", v)
}

// redirect answers a POST with 303 to a page, with a notice naming what
// happened (one of notices, so nothing typed is reflected).
func redirect(w http.ResponseWriter, r *http.Request, to, notice string) {
	if notice != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "done=" + url.QueryEscape(notice)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

var notices = map[string]string{
	"profile":        "Your profile is saved.",
	"email":          "Your email address is changed. We sent a link to the new address to verify it.",
	"verify":         "We sent a verification link to your email address.",
	"password":       "Your password is changed.",
	"password-all":   "Your password is changed, and every other session and token of yours is signed out.",
	"session-out":    "The session is signed out.",
	"sessions-out":   "Every other session of yours is signed out.",
	"2fa-off":        "Two-factor authentication is off.",
	"github-off":     "Your GitHub account is unlinked.",
	"token-active":   "The token is active again.",
	"token-inactive": "The token is deactivated: it is refused until you reactivate it.",
	"token-deleted":  "The token is deleted.",
	"invite-accept":  "You joined the organization.",
	"invite-reject":  "The invitation is rejected.",
	"invite-dismiss": "The invitation is dismissed.",
	"org":            "The organization is created.",
	"signed-out":     "You are signed out.",
	"deleted":        "Your account is deleted.",
	"invited":        "The invitation is sent.",
	"invite-revoked": "The invitation is withdrawn.",
}

func noticeOf(r *http.Request) string { return notices[r.URL.Query().Get("done")] }
