package client

import "time"

// UserCredentials logs a user in, or confirms who is deleting an account.
type UserCredentials struct {
	Email           string   `json:"email"`
	Password        string   `json:"password"`
	TwoFactorCode   string   `json:"twoFactorCode,omitempty"`
	RequestedScopes []string `json:"requestedScopes,omitempty"`
	TokenTTL        *int64   `json:"tokenTTL,omitempty"` // seconds
}

// AuthedUser is a freshly issued token.
type AuthedUser struct {
	UserID             string `json:"userId"`
	Token              string `json:"token"`
	NeedsToVerifyEmail bool   `json:"needsToVerifyEmail,omitempty"`
	OrgID              string `json:"orgId,omitempty"`
}

// Me is the signed-in user.
type Me struct {
	ID                   string         `json:"id"`
	UserID               string         `json:"userId"`
	CreationDate         time.Time      `json:"creationDate"`
	LastUpdated          time.Time      `json:"lastUpdated"`
	PasswordLastUpdated  *time.Time     `json:"passwordLastUpdated,omitempty"`
	Email                string         `json:"email"`
	FirstName            string         `json:"firstName,omitempty"`
	LastName             string         `json:"lastName,omitempty"`
	CompanyName          string         `json:"companyName,omitempty"`
	Title                string         `json:"title,omitempty"`
	PhoneNumber          string         `json:"phoneNumber,omitempty"`
	Location             string         `json:"location,omitempty"`
	URL                  string         `json:"url,omitempty"`
	FullName             string         `json:"fullName,omitempty"`
	TokenCutoff          *time.Time     `json:"tokenCutoff,omitempty"`
	EmailVerified        bool           `json:"emailVerified"`
	NeedsToVerifyEmail   bool           `json:"needsToVerifyEmail"`
	TwoFactorAuthEnabled bool           `json:"twoFactorAuthEnabled"`
	GithubName           string         `json:"githubName,omitempty"`
	Summary              map[string]any `json:"summary,omitempty"`
	// with MeGetParams.IncludeRecent
	RecentApplications  *RecentItemList `json:"recentApplications,omitempty"`
	RecentDashboards    *RecentItemList `json:"recentDashboards,omitempty"`
	RecentOrganizations *RecentItemList `json:"recentOrganizations,omitempty"`

	AvatarURL string `json:"avatarUrl,omitempty"`
	// Limits are those set for every user: apitoken, application,
	// dashboard, device.
	Limits map[string]int `json:"limits,omitempty"`
}

// MeGetParams are the optional query parameters of Me.Get.
type MeGetParams struct {
	IncludeRecent  bool
	SummaryInclude []string
	SummaryExclude []string
}

// MePatch changes the profile; nil fields stay as they are. Changing Email
// or Password needs CurrentCredentials.
type MePatch struct {
	Email              *string             `json:"email,omitempty"`
	FirstName          *string             `json:"firstName,omitempty"`
	LastName           *string             `json:"lastName,omitempty"`
	CompanyName        *string             `json:"companyName,omitempty"`
	Title              *string             `json:"title,omitempty"`
	PhoneNumber        *string             `json:"phoneNumber,omitempty"`
	Location           *string             `json:"location,omitempty"`
	URL                *string             `json:"url,omitempty"`
	Password           *string             `json:"password,omitempty"`
	TokenCutoff        *time.Time          `json:"tokenCutoff,omitempty"`
	CurrentCredentials *CurrentCredentials `json:"currentCredentials,omitempty"`
}

// CurrentCredentials confirm a sensitive profile change.
type CurrentCredentials struct {
	Password      string `json:"password"`
	TwoFactorCode string `json:"twoFactorCode,omitempty"`
}

// ChangePassword replaces the password.
type ChangePassword struct {
	Password                 string `json:"password"`
	NewPassword              string `json:"newPassword"`
	TwoFactorCode            string `json:"twoFactorCode,omitempty"`
	InvalidateExistingTokens bool   `json:"invalidateExistingTokens,omitempty"`
	TokenTTL                 *int64 `json:"tokenTTL,omitempty"`
}

// APIToken is a personal API token. Token is set only in the answer to
// UserAPITokens.Post.
type APIToken struct {
	ID             string     `json:"id"`
	APITokenID     string     `json:"apiTokenId,omitempty"`
	OwnerID        string     `json:"ownerId,omitempty"`
	OwnerType      string     `json:"ownerType,omitempty"`
	CreatorID      string     `json:"creatorId,omitempty"`
	CreatorType    string     `json:"creatorType,omitempty"`
	CreatorName    string     `json:"creatorName,omitempty"`
	Name           string     `json:"name"`
	Description    string     `json:"description,omitempty"`
	CreationDate   time.Time  `json:"creationDate"`
	LastUpdated    time.Time  `json:"lastUpdated"`
	ExpirationDate *time.Time `json:"expirationDate,omitempty"`
	LastUsed       *time.Time `json:"lastUsed,omitempty"`
	Scope          []string   `json:"scope"`
	Status         string     `json:"status"`
	Token          string     `json:"token,omitempty"`
}

// APITokens is one page of API tokens.
type APITokens struct {
	Items         []APIToken `json:"items"`
	Count         int        `json:"count"`
	TotalCount    int        `json:"totalCount"`
	PerPage       int        `json:"perPage"`
	Page          int        `json:"page"`
	SortField     string     `json:"sortField"`
	SortDirection string     `json:"sortDirection"`
	FilterField   string     `json:"filterField,omitempty"`
	Filter        string     `json:"filter,omitempty"`
}

// APITokenPost creates an API token; Scope defaults to all.User.
type APITokenPost struct {
	Name           string     `json:"name"`
	Description    string     `json:"description,omitempty"`
	ExpirationDate *time.Time `json:"expirationDate,omitempty"`
	Scope          []string   `json:"scope,omitempty"`
	Status         string     `json:"status,omitempty"`
}

// APITokenPatch changes an API token; nil fields stay as they are.
type APITokenPatch struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
	Status      *string `json:"status,omitempty"` // "active" or "inactive"
}

// ListParams page, sort and filter a list; zero values take the server's
// defaults (sort by name ascending, page 0 of 100).
type ListParams struct {
	SortField     string
	SortDirection string
	Page          int
	PerPage       int
	FilterField   string
	Filter        string // * matches any run of characters
}
