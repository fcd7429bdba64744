package main

import (
	"strings"
	"testing"
)

func TestPopulation(t *testing.T) {
	p := population{users: 10, tokensPer: 3, listUsers: 4, listTokens: 20}
	got := 0
	for i := range p.users {
		got += p.tokensOf(i)
	}
	if want := 4*20 + 6*3; got != want || p.totalTokens() != want {
		t.Errorf("tokens: sum of tokensOf %d, totalTokens %d, want %d", got, p.totalTokens(), want)
	}
	if p.tokensOf(3) != 20 || p.tokensOf(4) != 3 {
		t.Errorf("tokensOf(3), tokensOf(4) = %d, %d, want 20, 3", p.tokensOf(3), p.tokensOf(4))
	}
}

func TestScaleFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string // "" for none
	}{
		{[]string{"--backends", "sqlite", "--users", "100"}, ""},
		{[]string{"--backends", "sqlite", "--users", "100", "--list-users", "101"}, "--list-users"},
		{[]string{"--backends", "sqlite", "--users", "100", "--tokens-per-user", "0"}, "--tokens-per-user"},
		{[]string{"--backends", "sqlite", "--users", "-1"}, "--users"},
		{[]string{"--backends", "sqlite"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := parseFlags(tt.args)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
}
