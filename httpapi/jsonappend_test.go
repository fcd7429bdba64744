package httpapi

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/accountd/accountd"
)

// jsonStrings are strings that exercise every escaping rule.
func jsonStrings() []string {
	out := []string{"", "plain", `quote " and backslash \`, "<html> & 'single'", "tab\tnew\nline\rcr\bbs\fff",
		"\x00\x01\x1f\x7f", "ünïcödé ✓ 😀", "\u2028line\u2029para", "bad \xff utf-8 \xc3", "\xed\xa0\x80 surrogate",
		strings.Repeat("long ", 200)}
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	out = append(out, string(all))
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		b := make([]byte, rnd.IntN(40))
		for i := range b {
			if rnd.IntN(3) == 0 {
				b[i] = byte(rnd.IntN(256))
			} else {
				b[i] = byte(0x20 + rnd.IntN(0x5f))
			}
		}
		if rnd.IntN(4) == 0 {
			b = utf8.AppendRune(b, rune(rnd.IntN(0x30000)))
		}
		out = append(out, string(b))
	}
	return out
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonStrings() {
		got := appendJSONString(nil, s)
		want := bytes.TrimSuffix(encodeJSON(s), []byte("\n"))
		if !bytes.Equal(got, want) {
			t.Errorf("appendJSONString(%q) = %s, encoding/json says %s", s, got, want)
		}
	}
}

func TestAppendTokenListMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 123456789, time.FixedZone("X", 3600))
	strs := jsonStrings()
	var tokens []*accountd.Token
	for i, s := range strs[:40] {
		tok := &accountd.Token{ID: accountd.NewID(at), UserID: accountd.NewID(at), Kind: accountd.KindAPI,
			Name: s, Description: strs[len(strs)-1-i], Scope: []string{"all.User", s}, Status: accountd.StatusActive,
			CreatedAt: at, UpdatedAt: at.Add(time.Duration(i) * time.Hour)}
		switch i % 4 { // the optional fields, each way
		case 0:
			tok.CreatorType, tok.CreatorID, tok.CreatorName = "user", tok.UserID, s
			tok.ExpiresAt = at.Add(24 * time.Hour)
		case 1:
			tok.LastUsedAt = at.Add(-time.Minute)
			tok.Scope = nil
		case 2:
			tok.CreatorType, tok.CreatorID = "apiToken", accountd.NewID(at)
			tok.ExpiresAt, tok.LastUsedAt = at.Add(time.Hour), at
		}
		tokens = append(tokens, tok)
	}
	for _, tc := range []struct {
		name   string
		tokens []*accountd.Token
		b      apiTokensBody
	}{
		{"empty", nil, apiTokensBody{PerPage: 100, SortField: "name", SortDirection: "asc"}},
		{"one", tokens[:1], apiTokensBody{Count: 1, TotalCount: 1, PerPage: 100, SortField: "name", SortDirection: "asc"}},
		{"filtered", tokens, apiTokensBody{Count: len(tokens), TotalCount: 1234, PerPage: 40, Page: 3, SortField: "creationDate",
			SortDirection: "desc", FilterField: "name", Filter: `a*"\` + "\u2028"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.b
			want.Items = make([]apiTokenBody, 0, len(tc.tokens))
			for _, tok := range tc.tokens {
				want.Items = append(want.Items, apiTokenJSON(tok, ""))
			}
			got := appendTokenList(nil, &tc.b, tc.tokens)
			if w := encodeJSON(want); !bytes.Equal(got, w) {
				t.Errorf("appendTokenList:\n got %s\nwant %s", got, w)
			}
		})
	}
}

func TestAppendAppListMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 987654321, time.FixedZone("Y", -7200))
	strs := jsonStrings()
	var apps []*accountd.Application
	for i, s := range strs[:30] {
		a := &accountd.Application{Owned: accountd.Owned{ID: accountd.NewID(at), OwnerType: accountd.OwnerUser, OwnerID: accountd.NewID(at),
			Name: s, Description: strs[len(strs)-1-i], CreatedAt: at, UpdatedAt: at.Add(time.Duration(i) * time.Minute)}}
		if i%2 == 0 {
			a.OwnerType, a.OrgName = accountd.OwnerOrg, s
		}
		apps = append(apps, a)
	}
	for _, tc := range []struct {
		name string
		apps []*accountd.Application
		q    accountd.ListQuery
	}{
		{"empty", nil, accountd.ListQuery{PerPage: 100, SortField: "name", SortDirection: "asc"}},
		{"page", apps, accountd.ListQuery{PerPage: 30, Page: 2, SortField: "ownerId", SortDirection: "desc", FilterField: "name", Filter: "*\u2029\""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items := make([]ownedBody, 0, len(tc.apps))
			for _, a := range tc.apps {
				items = append(items, appJSON(a))
			}
			want := encodeJSON(newList(items, 99, tc.q))
			if got := appendAppList(nil, tc.apps, 99, tc.q); !bytes.Equal(got, want) {
				t.Errorf("appendAppList:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// BenchmarkTokenListJSON encodes a page of 20 tokens both ways:
// go test ./httpapi -run '^$' -bench TokenListJSON -benchmem
func BenchmarkTokenListJSON(b *testing.B) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var tokens []*accountd.Token
	for i := range 20 {
		tokens = append(tokens, &accountd.Token{ID: accountd.NewID(at), UserID: accountd.NewID(at), Kind: accountd.KindAPI,
			Name: "token " + strings.Repeat("x", i), Description: "seeded", Scope: []string{"all.User"}, Status: accountd.StatusActive,
			CreatorType: "user", CreatorID: accountd.NewID(at), CreatorName: "user@example.com", CreatedAt: at, UpdatedAt: at})
	}
	body := apiTokensBody{Count: 20, TotalCount: 20, PerPage: 100, SortField: "name", SortDirection: "asc"}
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			v := body
			v.Items = make([]apiTokenBody, 0, len(tokens))
			for _, t := range tokens {
				v.Items = append(v.Items, apiTokenJSON(t, ""))
			}
			encodeJSON(v)
		}
	})
	b.Run("append", func(b *testing.B) {
		buf := make([]byte, 0, 16<<10)
		for b.Loop() {
			buf = appendTokenList(buf[:0], &body, tokens)
		}
	})
}
