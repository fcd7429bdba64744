package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
)

// Log in, then read the signed-in user.
func Example() {
	ctx := context.Background()
	c, err := client.New("http://127.0.0.1:8080")
	if err != nil {
		log.Fatal(err)
	}
	a, err := c.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "ada@example.com", Password: "Analytical-Engine-1843"})
	if err != nil {
		log.Fatal(err)
	}
	c.SetToken(a.Token)
	me, err := c.Me.Get(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(me.Email, me.Summary["apiTokenCount"])
}

// Create a narrow API token for a dashboard, use it, then revoke it.
func ExampleUserAPITokensService_Post() {
	ctx := context.Background()
	c, _ := client.New("http://127.0.0.1:8080", client.WithToken("SESSION-TOKEN"))
	tok, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "dashboard", Scope: []string{"me.get"}})
	if err != nil {
		log.Fatal(err)
	}
	reader, _ := client.New("http://127.0.0.1:8080", client.WithToken(tok.Token)) // tok.Token is shown only once
	if _, err := reader.Me.Get(ctx, nil); err != nil {
		log.Fatal(err)
	}
	if err := c.UserAPIToken.Delete(ctx, tok.ID); err != nil {
		log.Fatal(err)
	}
	_, err = reader.Me.Get(ctx, nil)
	fmt.Println(errors.Is(err, accountd.ErrUnauthorized)) // true: revoked at once
}

// Errors from the server unwrap to accountd's domain errors.
func ExampleError() {
	ctx := context.Background()
	c, _ := client.New("http://127.0.0.1:8080", client.WithToken("SESSION-TOKEN"))
	_, err := c.UserAPIToken.Get(ctx, "575ec7417ae143cd83dc4a95")
	var e *client.Error
	switch {
	case errors.Is(err, accountd.ErrNotFound):
		fmt.Println("no such token")
	case errors.As(err, &e):
		fmt.Println(e.StatusCode, e.Type, e.Message)
	}
}
