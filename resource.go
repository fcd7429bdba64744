package accountd

import (
	"context"
	"time"
	"unicode/utf8"
)

// Owner types of applications and dashboards, as the reference names them.
const (
	OwnerUser = "user"
	OwnerOrg  = "organization"
)

// Resource kinds: the item types of recent-item lists, and what the
// summary counts.
const (
	KindApplication  = "application"
	KindDashboard    = "dashboard"
	KindDevice       = "device"
	KindFlow         = "flow"
	KindOrganization = "organization"
)

// ItemTypes lists the recent-item types; device and flow lists are kept per
// application.
var ItemTypes = []string{KindApplication, KindDevice, KindFlow, KindDashboard, KindOrganization}

// Owned is what applications and dashboards share: who owns them, a user or
// an organization, and their name.
type Owned struct {
	ID          string
	OwnerType   string // OwnerUser or OwnerOrg
	OwnerID     string
	OrgName     string // the owning organization's name, read at read time
	Name        string
	Description string
	// Data holds, as one JSON object, the documented properties that have
	// no behaviour in accountd (an application's globals, a dashboard's
	// blocks, ...): kept as sent and returned as they were; nil for none.
	Data      []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Application and Dashboard are owned resources; an application holds
// devices and flows.
type (
	Application struct{ Owned }
	Dashboard   struct {
		Owned
		// ApplicationID links the dashboard to an application ("" for
		// none); lists filter on it.
		ApplicationID string
		// PasswordHash protects a dashboard's public view ("" for none);
		// only the hash is kept.
		PasswordHash string
	}
)

// MaxAppDescriptionLen is application.json's limit; dashboards, devices and
// flows take MaxDescriptionLen.
const MaxAppDescriptionLen = 1024

// Validate checks the invariants a stored application or dashboard keeps;
// maxDescription differs between the two.
func (o *Owned) Validate(maxDescription int) error {
	if !ValidID(o.ID) || !ValidID(o.OwnerID) {
		return Invalid("id", "must be 24 hex characters")
	}
	if o.OwnerType != OwnerUser && o.OwnerType != OwnerOrg {
		return Invalid("ownerType", "must be user or organization")
	}
	if err := validName(o.Name); err != nil {
		return err
	}
	if utf8.RuneCountInString(o.Description) > maxDescription {
		return Invalid("description", "must be at most %d characters", maxDescription)
	}
	return nil
}

// Device is a device of an application. State reports (device.sendState)
// will hang off its id.
type Device struct {
	ID            string
	ApplicationID string
	Name          string
	Description   string
	DeviceClass   string
	// ParentID and GatewayID name other devices of the same application
	// ("" for none).
	ParentID  string
	GatewayID string
	// Tags are the device's tags as written, the rows tagFilter searches;
	// they are also in Data, which is what reads return (reads leave Tags
	// nil).
	Tags []Tag
	// Data holds the other documented properties (tags, attributes,
	// systemInterval, ...) as one JSON object; nil for none.
	Data      []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Tag is one key and value of a device's tags.
type Tag struct {
	Key, Value string
}

// TagFilter is one pair of a devices list's tagFilter: a device matches
// when it has a tag with the key (any key when "") and the value (any value
// when "").
type TagFilter struct {
	Key, Value string
}

// DeviceFilter selects the devices of one application a list shows.
type DeviceFilter struct {
	ApplicationID string
	Classes       []string // any of these device classes; all when empty
	// ParentID, when HasParent, keeps the children of that device ("" for
	// devices without a parent).
	ParentID  string
	HasParent bool
	Tags      []TagFilter // every pair must match
	// Deleted asks for the recently deleted devices instead (queryDeleted).
	Deleted bool
	// Query, when set, is an advanced query (ParseQuery with
	// DeviceQueryFields); it takes the place of Classes, ParentID and Tags.
	Query *Query
}

// FlowFilter selects the flows of one application a list shows.
type FlowFilter struct {
	ApplicationID string
	Classes       []string // any of these flow classes; all when empty
	// Triggers keeps the flows one of whose triggers (kept in the flow's
	// data) matches any of these pairs; none when empty.
	Triggers []TriggerFilter
	// Query, when set, is an advanced query (ParseQuery with
	// FlowQueryFields); it takes the place of Classes and Triggers.
	Query *Query
}

// TriggerFilter is one {key, type} pair of a flows triggerFilter: a blank
// key or type matches any.
type TriggerFilter struct {
	Key, Type string
}

// Flow is a workflow of an application.
type Flow struct {
	ID            string
	ApplicationID string
	Name          string
	Description   string
	Enabled       bool
	FlowClass     string
	// Data holds the other documented properties (triggers, nodes,
	// globals, ...) as one JSON object; nil for none.
	Data      []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ValidateChild checks what devices and flows share: ids, name and
// description.
func ValidateChild(id, applicationID, name, description string) error {
	if !ValidID(id) || !ValidID(applicationID) {
		return Invalid("id", "must be 24 hex characters")
	}
	if err := validName(name); err != nil {
		return err
	}
	if utf8.RuneCountInString(description) > MaxDescriptionLen {
		return Invalid("description", "must be at most %d characters", MaxDescriptionLen)
	}
	return nil
}

// Scope selects the applications or dashboards a list shows: those of one
// organization when OrgID is set, otherwise every one UserID can see (their
// own and their organizations').
type Scope struct {
	UserID string
	OrgID  string
	// OwnOnly keeps only what UserID owns directly (orgId given blank).
	OwnOnly bool
	// ApplicationID, when HasApplication, keeps dashboards linked to that
	// application ("" for dashboards linked to none).
	ApplicationID  string
	HasApplication bool
}

// AppSummary is what the summary of an application counts.
type AppSummary struct {
	Devices, Flows, Dashboards int
}

// RecentItem is one use of an item by a user. ParentID is the application
// of a device or flow, "" otherwise.
type RecentItem struct {
	UserID   string
	ItemType string
	ParentID string
	ItemID   string
}

// NamedItem is an entry of a recent-item list, named as it is now.
type NamedItem struct {
	ID   string
	Name string
}

// ResourceStore persists applications, dashboards, devices, flows and
// recent items. It is part of OrgStore.
type ResourceStore interface {
	CreateApplication(ctx context.Context, a *Application) error
	Application(ctx context.Context, id string) (*Application, error)
	Applications(ctx context.Context, s Scope, q ListQuery) ([]*Application, int, error)
	// DeleteApplication removes the application, its devices and flows, and
	// every recent-item entry that names one of them; its devices count as
	// deleted at at.
	DeleteApplication(ctx context.Context, id string, at time.Time) error

	CreateDashboard(ctx context.Context, d *Dashboard) error
	Dashboard(ctx context.Context, id string) (*Dashboard, error)
	Dashboards(ctx context.Context, s Scope, q ListQuery) ([]*Dashboard, int, error)
	DeleteDashboard(ctx context.Context, id string) error

	// MoveOwned gives the application or dashboard (kind) id to a new
	// owner if fromUserID owns it, and reports whether it did. An
	// application's devices move with it in the owners' device counts.
	MoveOwned(ctx context.Context, kind, id, fromUserID, toType, toID string, at time.Time) (bool, error)

	CreateDevice(ctx context.Context, d *Device) error
	Device(ctx context.Context, applicationID, id string) (*Device, error)
	Devices(ctx context.Context, f DeviceFilter, q ListQuery) ([]*Device, int, error)
	// CreateDevice and DeleteDevice also count the change for the
	// application's owner (UsageStore.DeviceHours); the deletion at at.
	// DeleteDevice clears the device from the parentId and gatewayId of the
	// others, as DeleteApplication clears dashboards' link to it.
	DeleteDevice(ctx context.Context, applicationID, id string, at time.Time) error

	CreateFlow(ctx context.Context, f *Flow) error
	Flow(ctx context.Context, applicationID, id string) (*Flow, error)
	Flows(ctx context.Context, f FlowFilter, q ListQuery) ([]*Flow, int, error)
	DeleteFlow(ctx context.Context, applicationID, id string) error

	// LockOwner holds the user's or organization's row until the
	// transaction ends, so that deleting an owner and creating or moving
	// resources to it happen one after the other and never orphan a
	// resource; NotFound when the owner does not exist.
	LockOwner(ctx context.Context, ownerType, ownerID string) error

	// AppSummaries counts, for each application of ids that exists, its
	// devices, its flows and the dashboards linked to it.
	AppSummaries(ctx context.Context, ids []string) (map[string]AppSummary, error)

	// CountOwned counts the applications and dashboards owned directly.
	CountOwned(ctx context.Context, ownerType, ownerID string) (apps, dashboards int, err error)

	// AddRecentItem puts the item first in its list, dropping it from
	// further down and dropping entries past keep.
	AddRecentItem(ctx context.Context, r RecentItem, keep int) error
	// RecentItems lists the user's recent items of a type (and parent),
	// most recent first, named as they are now. Items that are gone or
	// that the user can no longer see are left out.
	RecentItems(ctx context.Context, userID, itemType, parentID string) ([]NamedItem, error)
}
