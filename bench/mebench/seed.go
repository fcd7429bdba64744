package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/postgres"
	"github.com/accountd/accountd/secret"
	"github.com/accountd/accountd/sqlite"
)

// seedUser is one seeded user and the signed values of their API tokens.
type seedUser struct {
	id, email string
	tokens    []string
}

// population is what the many-users mode seeds: users users, the first
// listUsers of them with listTokens API tokens and as many applications
// each, and the others with tokensPer tokens each.
type population struct {
	users, tokensPer, listUsers, listTokens int
}

func (p population) tokensOf(i int) int {
	if i < p.listUsers {
		return p.listTokens
	}
	return p.tokensPer
}

func (p population) totalTokens() int {
	list := min(p.users, p.listUsers)
	return list*p.listTokens + (p.users-list)*p.tokensPer
}

// seedBatch is how many rows one seeding transaction writes.
const seedBatch = 2000

// seed writes the population straight into the store at db (SQLite path or
// PostgreSQL URL) before the server starts, and signs every token with key
// (the server's --keys value), so the tokens are as good as ones the
// server issued. Password hashes use cheap argon2id parameters: nobody
// logs in with them, and seeding is no part of what is measured.
func seed(ctx context.Context, backend, db, key string, p population) ([]seedUser, error) {
	var st accountd.Store
	var err error
	if backend == "postgres" {
		st, err = postgres.Open(ctx, db)
	} else {
		st, err = sqlite.Open(ctx, db)
	}
	if err != nil {
		return nil, err
	}
	defer st.Close()
	keys, err := secret.ParseKeys(key)
	if err != nil {
		return nil, err
	}
	kr, err := secret.NewKeyring(keys...)
	if err != nil {
		return nil, err
	}
	hash, err := secret.HashPassword(secret.Params{Memory: 64, Time: 1, Threads: 1}, "Seed-Passw0rd!", rand.Reader)
	if err != nil {
		return nil, err
	}
	// Created a minute ago, so that no token is newer than the server's
	// clock and no cut-off question arises.
	now := accountd.Millis(time.Now().Add(-time.Minute))
	users := make([]seedUser, p.users)
	type pending struct {
		user  *accountd.User
		token *accountd.Token
		app   *accountd.Application
	}
	var batch []pending
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := st.InTx(ctx, func(tx accountd.Store) error {
			for _, x := range batch {
				var err error
				switch {
				case x.user != nil:
					err = tx.CreateUser(ctx, x.user)
				case x.token != nil:
					err = tx.CreateToken(ctx, x.token)
				default:
					err = tx.CreateApplication(ctx, x.app)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	for i := range users {
		u := &accountd.User{
			ID: accountd.NewID(now), Email: fmt.Sprintf("user%d@bench.example.com", i),
			FirstName: "User", LastName: fmt.Sprint(i), PasswordHash: hash, EmailVerified: true,
			CreatedAt: now, UpdatedAt: now, PasswordUpdatedAt: now,
		}
		users[i] = seedUser{id: u.ID, email: u.Email}
		batch = append(batch, pending{user: u})
		for j := range p.tokensOf(i) {
			t := &accountd.Token{
				ID: accountd.NewID(now), UserID: u.ID, Kind: accountd.KindAPI,
				Name: fmt.Sprintf("token %02d", j), Description: "seeded by mebench", Scope: []string{"all.User"},
				Status: accountd.StatusActive, CreatorType: "user", CreatorID: u.ID, CreatorName: u.Email,
				CreatedAt: now, UpdatedAt: now,
			}
			signed, err := kr.Sign(secret.Claims{UserID: u.ID, TokenID: t.ID, Scope: t.Scope, IssuedAt: t.CreatedAt})
			if err != nil {
				return nil, err
			}
			users[i].tokens = append(users[i].tokens, signed)
			batch = append(batch, pending{token: t})
		}
		if i < p.listUsers {
			// as many applications as tokens, for GET /applications
			for j := range p.listTokens {
				batch = append(batch, pending{app: &accountd.Application{Owned: accountd.Owned{
					ID: accountd.NewID(now), OwnerType: accountd.OwnerUser, OwnerID: u.ID,
					Name: fmt.Sprintf("application %02d", j), Description: "seeded by mebench", CreatedAt: now, UpdatedAt: now}}})
			}
		}
		if len(batch) >= seedBatch {
			if err := flush(); err != nil {
				return nil, fmt.Errorf("seeding %s: %w", backend, err)
			}
		}
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("seeding %s: %w", backend, err)
	}
	return users, nil
}
