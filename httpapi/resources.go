package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/service"
)

// ownedBody is what the reference application and dashboard schemas share,
// as far as accountd keeps them; the id field is named per kind.
type ownedBody struct {
	ID               string `json:"id"`
	ApplicationID    string `json:"applicationId,omitempty"`
	DashboardID      string `json:"dashboardId,omitempty"`
	CreationDate     string `json:"creationDate"`
	LastUpdated      string `json:"lastUpdated"`
	OwnerID          string `json:"ownerId"`
	OwnerType        string `json:"ownerType"`
	OrganizationName string `json:"organizationName,omitempty"`
	Name             string `json:"name"`
	Description      string `json:"description"`
	// IsPasswordProtected is a dashboard's: whether its public view has a
	// password (the password itself is never shown).
	IsPasswordProtected *bool `json:"isPasswordProtected,omitempty"`
	// Summary is an application's counts (see appSummaryQuery); nil for
	// none.
	Summary *map[string]int `json:"summary,omitempty"`
	// data holds the documented properties kept as data, sent after the
	// others.
	data []byte
}

// MarshalJSON sends the kept data along with the fields.
func (b ownedBody) MarshalJSON() ([]byte, error) {
	type plain ownedBody
	obj, err := marshalPlain(plain(b))
	return withData(obj, b.data), err
}

func ownedJSON(o accountd.Owned) ownedBody {
	return ownedBody{ID: o.ID, CreationDate: accountd.FormatTime(o.CreatedAt), LastUpdated: accountd.FormatTime(o.UpdatedAt),
		OwnerID: o.OwnerID, OwnerType: o.OwnerType, OrganizationName: o.OrgName, Name: o.Name, Description: o.Description, data: o.Data}
}

func appJSON(a *accountd.Application) ownedBody {
	b := ownedJSON(a.Owned)
	b.ApplicationID = a.ID
	return b
}

func dashJSON(d *accountd.Dashboard) ownedBody {
	b := ownedJSON(d.Owned)
	b.DashboardID = d.ID
	b.ApplicationID = d.ApplicationID // the linked application, if any
	protected := d.PasswordHash != ""
	b.IsPasswordProtected = &protected
	return b
}

type ownedPostBody struct {
	OrgID         string  `json:"orgId"`
	Name          string  `json:"name"`
	Description   string  `json:"description"`
	ApplicationID string  `json:"applicationId"` // dashboards only
	Password      *string `json:"password"`      // dashboards only
}

// The properties of applicationPost and dashboardPost that have behaviour
// here; the others are kept as data.
var (
	appCore  = []string{"orgId", "name", "description"}
	dashCore = []string{"orgId", "name", "description", "applicationId", "password"}
)

func (b ownedPostBody) toService(data []byte) service.NewOwned {
	return service.NewOwned{OrgID: b.OrgID, Name: b.Name, Description: b.Description, Data: data,
		ApplicationID: b.ApplicationID, Password: b.Password}
}

// listOwnedQuery reads the orgId filter of an application or dashboard
// list: absent for everything the caller can see, blank for what they own
// themselves, an id for an organization's.
func listOwnedQuery(r *http.Request) service.ListOwned {
	orgID, given := optionalQuery(r.URL.Query(), "orgId")
	return service.ListOwned{OrgID: orgID, Own: given && orgID == ""}
}

func (s *Server) createApplication(w http.ResponseWriter, r *http.Request) error {
	var b ownedPostBody
	data, err := s.decodeWithData(r, "applicationPost", &b, appCore, nil)
	if err != nil {
		return err
	}
	a, err := s.svc.CreateApplication(r.Context(), principal(r), b.toService(data))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, appJSON(a))
	return nil
}

// appSummaryQuery is the summaryInclude and summaryExclude of an
// application action; asked reports whether either was given.
type appSummaryQuery struct {
	include, exclude []string
	asked            bool
}

func readAppSummaryQuery(r *http.Request) (appSummaryQuery, error) {
	qv := r.URL.Query()
	q := appSummaryQuery{asked: qv.Has("summaryInclude") || qv.Has("summaryExclude")}
	var err error
	if q.include, err = service.AppSummaryFields("summaryInclude", qv.Get("summaryInclude")); err != nil {
		return q, err
	}
	q.exclude, err = service.AppSummaryFields("summaryExclude", qv.Get("summaryExclude"))
	return q, err
}

// withAppSummaries answers the applications with their summaries as sq
// shapes them.
func (s *Server) withAppSummaries(r *http.Request, apps []*accountd.Application, sq appSummaryQuery) ([]ownedBody, error) {
	sums, err := s.svc.AppSummaries(r.Context(), apps)
	if err != nil {
		return nil, err
	}
	out := make([]ownedBody, 0, len(apps))
	for _, a := range apps {
		b := appJSON(a)
		counts := service.AppSummaryCounts(sums[a.ID], sq.include, sq.exclude)
		b.Summary = &counts
		out = append(out, b)
	}
	return out, nil
}

// listApplications answers summaries only when summaryInclude or
// summaryExclude asks for them, so that a plain list stays one query
// (and its hand-appended encoding).
func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) error {
	q, err := listQuery(r)
	if err != nil {
		return err
	}
	sq, err := readAppSummaryQuery(r)
	if err != nil {
		return err
	}
	if !sq.asked {
		// the answer kept with the user's cached state (service/meview.go);
		// summaries move with every device and flow, and are read each time
		body, err := s.svc.ApplicationsAnswer(r.Context(), principal(r), listOwnedQuery(r), q,
			func(page service.Page[*accountd.Application]) []byte {
				return appendAppList(nil, page.Items, page.Total, page.Query)
			})
		if err != nil {
			return err
		}
		writeBody(w, http.StatusOK, body)
		return nil
	}
	page, err := s.svc.Applications(r.Context(), principal(r), listOwnedQuery(r), q)
	if err != nil {
		return err
	}
	items, err := s.withAppSummaries(r, page.Items, sq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items, page.Total, page.Query))
	return nil
}

// getApplication answers the application with its summary, always: one
// more query of three counts.
func (s *Server) getApplication(w http.ResponseWriter, r *http.Request) error {
	sq, err := readAppSummaryQuery(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "applicationId")
	if err != nil {
		return err
	}
	a, err := s.svc.Application(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	items, err := s.withAppSummaries(r, []*accountd.Application{a}, sq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items[0])
	return nil
}

func (s *Server) deleteApplication(w http.ResponseWriter, r *http.Request) error {
	return deleteOne(w, r, "applicationId", s.svc.DeleteApplication)
}

// getOne and deleteOne serve the handlers of a thing named by one id in
// the path; they differ only in the service call and the body.
func getOne[T, B any](w http.ResponseWriter, r *http.Request, param string,
	get func(context.Context, accountd.Principal, string) (T, error), toJSON func(T) B) error {
	id, err := pathID(r, param)
	if err != nil {
		return err
	}
	it, err := get(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toJSON(it))
	return nil
}

func deleteOne(w http.ResponseWriter, r *http.Request, param string,
	del func(context.Context, accountd.Principal, string) error) error {
	id, err := pathID(r, param)
	if err != nil {
		return err
	}
	if err := del(r.Context(), principal(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, success)
	return nil
}

func (s *Server) createDashboard(w http.ResponseWriter, r *http.Request) error {
	var b ownedPostBody
	data, err := s.decodeWithData(r, "dashboardPost", &b, dashCore, nil)
	if err != nil {
		return err
	}
	d, err := s.svc.CreateDashboard(r.Context(), principal(r), b.toService(data))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, dashJSON(d))
	return nil
}

// dashboardsBody is the dashboards collection, which also echoes the
// orgId filter.
type dashboardsBody struct {
	listBody[ownedBody]
	OrgID string `json:"orgId,omitempty"`
}

func (s *Server) listDashboards(w http.ResponseWriter, r *http.Request) error {
	q, err := listQuery(r)
	if err != nil {
		return err
	}
	l := listOwnedQuery(r)
	l.ApplicationID, l.HasApplication = optionalQuery(r.URL.Query(), "applicationId")
	page, err := s.svc.Dashboards(r.Context(), principal(r), l, q)
	if err != nil {
		return err
	}
	items := make([]ownedBody, 0, len(page.Items))
	for _, d := range page.Items {
		items = append(items, dashJSON(d))
	}
	writeJSON(w, http.StatusOK, dashboardsBody{listBody: newList(items, page.Total, page.Query), OrgID: l.OrgID})
	return nil
}

func (s *Server) getDashboard(w http.ResponseWriter, r *http.Request) error {
	return getOne(w, r, "dashboardId", s.svc.Dashboard, dashJSON)
}

func (s *Server) deleteDashboard(w http.ResponseWriter, r *http.Request) error {
	return deleteOne(w, r, "dashboardId", s.svc.DeleteDashboard)
}

// deviceBody is the reference device schema, as far as accountd keeps it.
type deviceBody struct {
	ID            string `json:"id"`
	DeviceID      string `json:"deviceId"`
	ApplicationID string `json:"applicationId"`
	CreationDate  string `json:"creationDate"`
	LastUpdated   string `json:"lastUpdated"`
	Name          string `json:"name"`
	Description   string `json:"description"`
	DeviceClass   string `json:"deviceClass"`
	ParentID      string `json:"parentId,omitempty"`
	GatewayID     string `json:"gatewayId,omitempty"`
	data          []byte // tags, attributes and the rest kept as data
}

// MarshalJSON sends the kept data along with the fields.
func (b deviceBody) MarshalJSON() ([]byte, error) {
	type plain deviceBody
	obj, err := marshalPlain(plain(b))
	return withData(obj, b.data), err
}

func deviceJSON(d *accountd.Device) deviceBody {
	return deviceBody{ID: d.ID, DeviceID: d.ID, ApplicationID: d.ApplicationID,
		CreationDate: accountd.FormatTime(d.CreatedAt), LastUpdated: accountd.FormatTime(d.UpdatedAt),
		Name: d.Name, Description: d.Description, DeviceClass: d.DeviceClass, ParentID: d.ParentID, GatewayID: d.GatewayID, data: d.Data}
}

// deviceJSONIn is deviceJSON with the tags and attributes in form.
func deviceJSONIn(form deviceForm) func(*accountd.Device) deviceBody {
	return func(d *accountd.Device) deviceBody {
		b := deviceJSON(d)
		b.data = form.apply(b.data)
		return b
	}
}

// The properties of devicePost that have behaviour here; the others (tags
// among them, which are also read for tagFilter) are kept as data.
var deviceCore = []string{"name", "description", "deviceClass", "parentId", "gatewayId"}

func (s *Server) createDevice(w http.ResponseWriter, r *http.Request) error {
	appID, err := pathID(r, "applicationId")
	if err != nil {
		return err
	}
	var b struct {
		Name        string  `json:"name"`
		Description string  `json:"description"`
		DeviceClass string  `json:"deviceClass"`
		ParentID    *string `json:"parentId"`
		GatewayID   string  `json:"gatewayId"`
		Tags        []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"tags"`
	}
	data, err := s.decodeWithData(r, "devicePost", &b, deviceCore, nil)
	if err != nil {
		return err
	}
	n := service.NewDevice{Name: b.Name, Description: b.Description, DeviceClass: b.DeviceClass, GatewayID: b.GatewayID, Data: data}
	if b.ParentID != nil {
		n.ParentID = *b.ParentID
	}
	for _, t := range b.Tags {
		n.Tags = append(n.Tags, accountd.Tag{Key: t.Key, Value: t.Value})
	}
	d, err := s.svc.CreateDevice(r.Context(), principal(r), appID, n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, deviceJSON(d))
	return nil
}

// childListBody is the devices and flows collection, which echoes the
// application.
type childListBody[T any] struct {
	listBody[T]
	ApplicationID string `json:"applicationId"`
}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request) error {
	qv := r.URL.Query()
	form, err := asObjectFlags(qv)
	if err != nil {
		return err
	}
	if _, err := boolQuery(qv, "excludeConnectionInfo"); err != nil {
		return err // connection info is never sent, so either way is honoured
	}
	var f accountd.DeviceFilter
	f.Classes = queryList(qv, "deviceClass")
	f.ParentID, f.HasParent = optionalQuery(qv, "parentId")
	tags, err := tagFilterQuery(qv)
	if err != nil {
		return err
	}
	f.Tags = tags
	if f.Deleted, err = boolQuery(qv, "queryDeleted"); err != nil {
		return err
	}
	if f.Query, err = s.advancedQuery(qv, "advancedDeviceQuery", accountd.DeviceQueryFields); err != nil {
		return err
	}
	return listChildren(s, w, r, func(ctx context.Context, p accountd.Principal, appID string, q accountd.ListQuery) (service.Page[*accountd.Device], error) {
		return s.svc.Devices(ctx, p, appID, f, q)
	}, deviceJSONIn(form))
}

func (s *Server) getDevice(w http.ResponseWriter, r *http.Request) error {
	form, err := asObjectFlags(r.URL.Query())
	if err != nil {
		return err
	}
	return getChild(w, r, "deviceId", s.svc.Device, deviceJSONIn(form))
}

func (s *Server) deleteDevice(w http.ResponseWriter, r *http.Request) error {
	return deleteChild(w, r, "deviceId", s.svc.DeleteDevice)
}

// Devices and flows live inside an application: their handlers differ only
// in the service call and the body, so they share these.

func appAndChildID(r *http.Request, child string) (appID, id string, err error) {
	if appID, err = pathID(r, "applicationId"); err != nil {
		return "", "", err
	}
	id, err = pathID(r, child)
	return appID, id, err
}

func listChildren[T, B any](s *Server, w http.ResponseWriter, r *http.Request,
	list func(context.Context, accountd.Principal, string, accountd.ListQuery) (service.Page[T], error), toJSON func(T) B) error {
	appID, err := pathID(r, "applicationId")
	if err != nil {
		return err
	}
	q, err := listQuery(r)
	if err != nil {
		return err
	}
	page, err := list(r.Context(), principal(r), appID, q)
	if err != nil {
		return err
	}
	items := make([]B, 0, len(page.Items))
	for _, it := range page.Items {
		items = append(items, toJSON(it))
	}
	writeJSON(w, http.StatusOK, childListBody[B]{listBody: newList(items, page.Total, page.Query), ApplicationID: appID})
	return nil
}

func getChild[T, B any](w http.ResponseWriter, r *http.Request, child string,
	get func(context.Context, accountd.Principal, string, string) (T, error), toJSON func(T) B) error {
	appID, id, err := appAndChildID(r, child)
	if err != nil {
		return err
	}
	it, err := get(r.Context(), principal(r), appID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toJSON(it))
	return nil
}

func deleteChild(w http.ResponseWriter, r *http.Request, child string,
	del func(context.Context, accountd.Principal, string, string) error) error {
	appID, id, err := appAndChildID(r, child)
	if err != nil {
		return err
	}
	if err := del(r.Context(), principal(r), appID, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, success)
	return nil
}

// flowBody is the reference flow schema, as far as accountd keeps it.
type flowBody struct {
	ID            string `json:"id"`
	FlowID        string `json:"flowId"`
	ApplicationID string `json:"applicationId"`
	CreationDate  string `json:"creationDate"`
	LastUpdated   string `json:"lastUpdated"`
	Name          string `json:"name"`
	Description   string `json:"description"`
	Enabled       bool   `json:"enabled"`
	FlowClass     string `json:"flowClass"`
	data          []byte // triggers, nodes and the rest kept as data
}

// MarshalJSON sends the kept data along with the fields.
func (b flowBody) MarshalJSON() ([]byte, error) {
	type plain flowBody
	obj, err := marshalPlain(plain(b))
	return withData(obj, b.data), err
}

func flowJSON(f *accountd.Flow) flowBody {
	return flowBody{ID: f.ID, FlowID: f.ID, ApplicationID: f.ApplicationID,
		CreationDate: accountd.FormatTime(f.CreatedAt), LastUpdated: accountd.FormatTime(f.UpdatedAt),
		Name: f.Name, Description: f.Description, Enabled: f.Enabled, FlowClass: f.FlowClass, data: f.Data}
}

// The properties of flowPost that have behaviour here; the others are kept
// as data. A blank category means none: flow.json has no blank category.
var (
	flowCore = []string{"name", "description", "enabled", "flowClass"}
	flowNone = map[string]string{"category": ""}
)

func (s *Server) createFlow(w http.ResponseWriter, r *http.Request) error {
	appID, err := pathID(r, "applicationId")
	if err != nil {
		return err
	}
	var b struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Enabled     bool   `json:"enabled"`
		FlowClass   string `json:"flowClass"`
	}
	data, err := s.decodeWithData(r, "flowPost", &b, flowCore, flowNone)
	if err != nil {
		return err
	}
	f, err := s.svc.CreateFlow(r.Context(), principal(r), appID, service.NewFlow{Name: b.Name, Description: b.Description, Enabled: b.Enabled, FlowClass: b.FlowClass, Data: data})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, flowJSON(f))
	return nil
}

func (s *Server) listFlows(w http.ResponseWriter, r *http.Request) error {
	qv := r.URL.Query()
	if _, err := boolQuery(qv, "allVersions"); err != nil {
		return err // flows have no versions here: either way is honoured
	}
	if _, err := boolQuery(qv, "includeCustomNodes"); err != nil {
		return err // no custom node runs here: the list has none to include
	}
	f := accountd.FlowFilter{Classes: queryList(qv, "flowClass")}
	triggers, err := triggerFilterQuery(qv)
	if err != nil {
		return err
	}
	f.Triggers = triggers
	if f.Query, err = s.advancedQuery(qv, "advancedFlowQuery", accountd.FlowQueryFields); err != nil {
		return err
	}
	return listChildren(s, w, r, func(ctx context.Context, p accountd.Principal, appID string, q accountd.ListQuery) (service.Page[*accountd.Flow], error) {
		return s.svc.Flows(ctx, p, appID, f, q)
	}, flowJSON)
}

func (s *Server) getFlow(w http.ResponseWriter, r *http.Request) error {
	return getChild(w, r, "flowId", s.svc.Flow, flowJSON)
}

func (s *Server) deleteFlow(w http.ResponseWriter, r *http.Request) error {
	return deleteChild(w, r, "flowId", s.svc.DeleteFlow)
}

// recentListBody is the reference recentItemList schema.
type recentListBody struct {
	ItemType string           `json:"itemType"`
	ParentID string           `json:"parentId,omitempty"`
	Items    []recentItemBody `json:"items"`
}

type recentItemBody struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func recentJSON(itemType, parentID string, items []accountd.NamedItem) recentListBody {
	b := recentListBody{ItemType: itemType, ParentID: parentID, Items: make([]recentItemBody, 0, len(items))}
	for _, it := range items {
		b.Items = append(b.Items, recentItemBody{ID: it.ID, Name: it.Name})
	}
	return b
}

func (s *Server) addRecentItem(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		ItemType string `json:"itemType"`
		ParentID string `json:"parentId"`
		ItemID   string `json:"itemId"`
	}
	if err := s.decode(r, "recentItem", &b); err != nil {
		return err
	}
	items, err := s.svc.AddRecentItem(r.Context(), principal(r), accountd.RecentItem{ItemType: b.ItemType, ParentID: b.ParentID, ItemID: b.ItemID})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, recentJSON(b.ItemType, b.ParentID, items))
	return nil
}

func (s *Server) fetchRecentItems(w http.ResponseWriter, r *http.Request) error {
	itemType, parentID := r.URL.Query().Get("itemType"), r.URL.Query().Get("parentId")
	if itemType == "" {
		return accountd.Invalid("itemType", "is required")
	}
	items, err := s.svc.RecentItems(r.Context(), principal(r), itemType, parentID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, recentJSON(itemType, parentID, items))
	return nil
}

// recentForMe fills the recent lists GET /me?includeRecent=true adds.
func (s *Server) recentForMe(r *http.Request, m *meBody) error {
	for _, l := range []struct {
		itemType string
		dst      **recentListBody
	}{
		{accountd.KindApplication, &m.RecentApplications},
		{accountd.KindDashboard, &m.RecentDashboards},
		{accountd.KindOrganization, &m.RecentOrganizations},
	} {
		items, err := s.svc.RecentItems(r.Context(), principal(r), l.itemType, "")
		if err != nil {
			return err
		}
		b := recentJSON(l.itemType, "", items)
		*l.dst = &b
	}
	return nil
}

// includeRecent reads the includeRecent flag of GET /me.
func includeRecent(q url.Values) (bool, error) {
	switch strings.ToLower(q.Get("includeRecent")) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, accountd.Invalid("includeRecent", "must be true or false")
}

type transferBody struct {
	DestinationID   string   `json:"destinationId"`
	DestinationType string   `json:"destinationType"`
	ApplicationIDs  []string `json:"applicationIds"`
	DashboardIDs    []string `json:"dashboardIds"`
	Strict          bool     `json:"strict"`
}

// transferResultBody is success plus, as an accountd extension, what a
// non-strict transfer did not move.
type transferResultBody struct {
	Success        bool `json:"success"`
	NotTransferred *struct {
		ApplicationIDs []string `json:"applicationIds"`
		DashboardIDs   []string `json:"dashboardIds"`
	} `json:"notTransferred,omitempty"`
}

func (s *Server) transferResources(w http.ResponseWriter, r *http.Request) error {
	var b transferBody
	if err := s.decode(r, "resourceTransfer", &b); err != nil {
		return err
	}
	nm, err := s.svc.TransferResources(r.Context(), principal(r), service.Transfer{
		DestinationID: b.DestinationID, DestinationType: b.DestinationType,
		ApplicationIDs: b.ApplicationIDs, DashboardIDs: b.DashboardIDs, Strict: b.Strict,
	})
	if err != nil {
		return err
	}
	out := transferResultBody{Success: true}
	if len(nm.ApplicationIDs)+len(nm.DashboardIDs) > 0 {
		out.NotTransferred = &struct {
			ApplicationIDs []string `json:"applicationIds"`
			DashboardIDs   []string `json:"dashboardIds"`
		}{nm.ApplicationIDs, nm.DashboardIDs}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
