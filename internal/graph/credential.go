package graph

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Authenticate gets a token, proving the app's credential still works.
// The token source keeps a token until five minutes before it expires, so
// calling this every cycle fetches a new one at least once per token
// lifetime (an hour on Entra).
func (c *Client) Authenticate(ctx context.Context) error {
	if _, err := c.tokens.Token(ctx); err != nil {
		return fmt.Errorf("graph: %w", err)
	}
	return nil
}

// AppCredential is a client secret or certificate of an app registration,
// without its value.
type AppCredential struct {
	Kind        string    // "client secret" or "certificate"
	DisplayName string    // as named in the app registration
	Expires     time.Time // endDateTime
}

// AppCredentials reads the secrets and certificates of the application
// with this appId, and when each expires (GET /applications with a
// filter on appId; Application.Read.All).
func (c *Client) AppCredentials(ctx context.Context, appID string) ([]AppCredential, error) {
	r := listRequest("/applications", "/applications", Query{
		Filter: fmt.Sprintf("appId eq '%s'", strings.ReplaceAll(appID, "'", "''")),
		Select: []string{"appId", "passwordCredentials", "keyCredentials"},
	})
	var page struct {
		Value []struct {
			PasswordCredentials []struct {
				DisplayName string    `json:"displayName"`
				EndDateTime time.Time `json:"endDateTime"`
			} `json:"passwordCredentials"`
			KeyCredentials []struct {
				DisplayName string    `json:"displayName"`
				EndDateTime time.Time `json:"endDateTime"`
			} `json:"keyCredentials"`
		} `json:"value"`
	}
	if err := c.doDecode(ctx, r, &page); err != nil {
		return nil, fmt.Errorf("read the credentials of application %s: %w", appID, err)
	}
	var out []AppCredential
	for _, a := range page.Value {
		for _, p := range a.PasswordCredentials {
			out = append(out, AppCredential{Kind: "client secret", DisplayName: p.DisplayName, Expires: p.EndDateTime})
		}
		for _, k := range a.KeyCredentials {
			out = append(out, AppCredential{Kind: "certificate", DisplayName: k.DisplayName, Expires: k.EndDateTime})
		}
	}
	return out, nil
}
