package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/accountd/accountd"
)

// visibleTo is the condition under which user ? (every ? is the user: see
// visibleArgs) can see the application or dashboard a: they own it, or an
// organization of theirs does and their role there is not "none", unless a
// per-resource role of "none" hides it (admins excepted); or a per-resource
// role other than "none" shows it. Each database gets the form its planner
// turns into index lookups of each owner in the (owner_id, owner_type, ...)
// index and of each granted id in the primary key: SQLite searches each
// side of the OR in an index (MULTI-INDEX OR), but PostgreSQL scanned the
// whole table for such an OR; PostgreSQL matches arrays of owners and of
// ids in the indexes and ORs the bitmaps, but SQLite scans the index for a
// list of owners. The per-resource roles are looked up by their (user_id,
// resource_id) key.
func (s *Store) visibleTo() string {
	const hidden = `NOT EXISTS (SELECT 1 FROM org_member_roles g JOIN org_members gm ON gm.org_id = g.org_id AND gm.user_id = g.user_id
		WHERE g.user_id = ? AND g.resource_id = a.id AND g.role = 'none' AND gm.role <> 'admin')`
	const granted = `a.id IN (SELECT g.resource_id FROM org_member_roles g WHERE g.user_id = ? AND g.role <> 'none')`
	if s.d.Name == "postgres" {
		// Arrays of owners and of granted ids, each matched in an index
		// and joined by a BitmapOr: a list of (owner, type) pairs OR'd
		// with the granted ids scanned the whole table.
		return `((a.owner_id = ANY (ARRAY(SELECT CAST(? AS TEXT) UNION ALL SELECT org_id FROM org_members WHERE user_id = ? AND role <> 'none'))
	AND (a.owner_type = 'user' AND a.owner_id = ? OR a.owner_type = 'organization' AND ` + hidden + `))
	OR a.id = ANY (ARRAY(SELECT g.resource_id FROM org_member_roles g WHERE g.user_id = ? AND g.role <> 'none')))`
	}
	return `((a.owner_type = 'user' AND a.owner_id = ?)
	OR (a.owner_type = 'organization' AND a.owner_id IN (SELECT org_id FROM org_members WHERE user_id = ? AND role <> 'none') AND ` + hidden + `)
	OR ` + granted + `)`
}

// visibleArgs are the arguments of visibleTo for userID.
func (s *Store) visibleArgs(userID string) []any {
	args := make([]any, strings.Count(s.visibleTo(), "?"))
	for i := range args {
		args[i] = userID
	}
	return args
}

const ownedColumns = "a.id, a.owner_type, a.owner_id, COALESCE(o.name, ''), a.name, a.description, a.data, a.created_at, a.updated_at"

// dashColumns adds what only dashboards have.
const dashColumns = ownedColumns + ", a.application_id, a.password_hash"

// columnsOf names the columns an owned table is read with; table is one of
// ours.
func columnsOf(table string) string {
	if table == "dashboards" {
		return dashColumns
	}
	return ownedColumns
}

// ownedFrom joins the owning organization's name; table is one of ours.
func ownedFrom(table string) string {
	return " FROM " + table + " a LEFT JOIN orgs o ON a.owner_type = 'organization' AND o.id = a.owner_id"
}

// ownedRow is a row of applications or dashboards; the dashboard fields
// stay empty for applications.
type ownedRow struct {
	accountd.Owned
	applicationID, passwordHash string
}

func scanOwned(row scanner, table string) (ownedRow, error) {
	var (
		o                ownedRow
		data             string
		created, updated int64
	)
	dest := []any{&o.ID, &o.OwnerType, &o.OwnerID, &o.OrgName, &o.Name, &o.Description, &data, &created, &updated}
	if table == "dashboards" {
		dest = append(dest, &o.applicationID, &o.passwordHash)
	}
	err := row.Scan(dest...)
	o.CreatedAt, o.UpdatedAt, o.Data = fromMillis(created), fromMillis(updated), dataOut(data)
	return o, err
}

func (o ownedRow) dashboard() *accountd.Dashboard {
	return &accountd.Dashboard{Owned: o.Owned, ApplicationID: o.applicationID, PasswordHash: o.passwordHash}
}

// dataIn and dataOut store a resource's data object: the empty string
// stands for none.
func dataIn(b []byte) string { return string(b) }

func dataOut(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// ownedTable maps a kind to its table: the only way a kind reaches a query.
func ownedTable(kind string) (string, error) {
	switch kind {
	case accountd.KindApplication:
		return "applications", nil
	case accountd.KindDashboard:
		return "dashboards", nil
	}
	return "", accountd.Internal(errors.New("sqlstore: not an owned kind: " + kind))
}

func (s *Store) createOwned(ctx context.Context, table string, o *accountd.Owned, dash *accountd.Dashboard) error {
	return s.inTx(ctx, func(tx *Store) error {
		// owner_id cannot be a foreign key (it names a user or an
		// organization), so the owner's row is held while inserting
		if err := tx.lockOwner(ctx, o.OwnerType, o.OwnerID, tx.d.ForShare); err != nil {
			return err
		}
		var err error
		if dash != nil {
			_, err = tx.exec(ctx, "INSERT INTO dashboards (id, owner_type, owner_id, name, description, data, created_at, updated_at, application_id, password_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				o.ID, o.OwnerType, o.OwnerID, o.Name, o.Description, dataIn(o.Data), millis(o.CreatedAt), millis(o.UpdatedAt), dash.ApplicationID, dash.PasswordHash)
		} else {
			_, err = tx.exec(ctx, "INSERT INTO "+table+" (id, owner_type, owner_id, name, description, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				o.ID, o.OwnerType, o.OwnerID, o.Name, o.Description, dataIn(o.Data), millis(o.CreatedAt), millis(o.UpdatedAt))
		}
		if err != nil {
			return internal("creating "+table, err)
		}
		tx.recordOwnerEvent(o.OwnerType, o.OwnerID)
		return nil
	})
}

// LockOwner holds the owner's row for the rest of the transaction.
func (s *Store) LockOwner(ctx context.Context, ownerType, ownerID string) error {
	return s.lockOwner(ctx, ownerType, ownerID, s.d.ForUpdate)
}

func (s *Store) lockOwner(ctx context.Context, ownerType, ownerID, lock string) error {
	table, what := "users", "user"
	if ownerType == accountd.OwnerOrg {
		table, what = "orgs", "organization"
	}
	var id string
	err := s.queryRow(ctx, "SELECT id FROM "+table+" WHERE id = ?"+lock, ownerID).Scan(&id)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return accountd.NotFound(what)
	default:
		return internal("locking "+what, err)
	}
}

func (s *Store) owned(ctx context.Context, table, what, id string) (ownedRow, error) {
	o, err := scanOwned(s.queryRow(ctx, "SELECT "+columnsOf(table)+ownedFrom(table)+" WHERE a.id = ?", id), table)
	switch {
	case err == nil:
		return o, nil
	case errors.Is(err, sql.ErrNoRows):
		return o, accountd.NotFound(what)
	default:
		return o, internal("reading "+what, err)
	}
}

var (
	ownedSort = map[string]string{"name": "a.name", "id": "a.id", "creationDate": "a.created_at", "ownerId": "a.owner_id", "lastUpdated": "a.updated_at"}
	dashSort  = map[string]string{"name": "a.name", "id": "a.id", "creationDate": "a.created_at", "ownerId": "a.owner_id", "lastUpdated": "a.updated_at",
		"applicationId": "a.application_id"}
)

func (s *Store) listOwned(ctx context.Context, table string, sc accountd.Scope, q accountd.ListQuery, add func(ownedRow)) (int, error) {
	where, args := " WHERE "+s.visibleTo(), s.visibleArgs(sc.UserID)
	switch {
	case sc.OrgID != "":
		where, args = " WHERE a.owner_type = 'organization' AND a.owner_id = ? AND "+s.visibleTo(), append([]any{sc.OrgID}, args...)
	case sc.OwnOnly:
		where, args = " WHERE a.owner_type = 'user' AND a.owner_id = ?", []any{sc.UserID}
	}
	sort := ownedSort
	if table == "dashboards" {
		sort = dashSort
		if sc.HasApplication {
			where, args = where+" AND a.application_id = ?", append(args, sc.ApplicationID)
		}
	}
	return s.listPage(ctx, listSpec{
		what: "listing " + table, columns: columnsOf(table), from: ownedFrom(table) + where, args: args,
		countFrom: " FROM " + table + " a" + where, // the LEFT JOIN of the owner's name adds no row
		sort:      sort, filter: map[string]string{"name": "a.name"}, idCol: "a.id",
	}, q, func(rows scanner) error {
		o, err := scanOwned(rows, table)
		add(o)
		return err
	})
}

func (s *Store) deleteOwned(ctx context.Context, table, what, id string) error {
	return s.inTx(ctx, func(tx *Store) error {
		var ownerType, ownerID string
		err := tx.queryRow(ctx, "DELETE FROM "+table+" WHERE id = ? RETURNING owner_type, owner_id", id).Scan(&ownerType, &ownerID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return accountd.NotFound(what)
		case err != nil:
			return internal("deleting "+what, err)
		}
		tx.recordOwnerEvent(ownerType, ownerID)
		return tx.forgetRecent(ctx, id)
	})
}

func (s *Store) CreateApplication(ctx context.Context, a *accountd.Application) error {
	return s.createOwned(ctx, "applications", &a.Owned, nil)
}

func (s *Store) Application(ctx context.Context, id string) (*accountd.Application, error) {
	o, err := s.owned(ctx, "applications", "application", id)
	if err != nil {
		return nil, err
	}
	return &accountd.Application{Owned: o.Owned}, nil
}

func (s *Store) Applications(ctx context.Context, sc accountd.Scope, q accountd.ListQuery) ([]*accountd.Application, int, error) {
	var out []*accountd.Application
	total, err := s.listOwned(ctx, "applications", sc, q, func(o ownedRow) { out = append(out, &accountd.Application{Owned: o.Owned}) })
	return out, total, err
}

// DeleteApplication relies on ON DELETE CASCADE for devices and flows;
// forgetRecent drops their entries by parent. Its devices count as deleted
// for the owner's device counts.
func (s *Store) DeleteApplication(ctx context.Context, id string, at time.Time) error {
	return s.inTx(ctx, func(tx *Store) error {
		o, err := tx.appOwner(ctx, id, tx.d.ForUpdate)
		if err != nil {
			return err
		}
		n, err := tx.countDevices(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.deleteOwned(ctx, "applications", "application", id); err != nil {
			return err
		}
		// dashboards linked to it are linked to none from now on
		if _, err := tx.exec(ctx, "UPDATE dashboards SET application_id = '' WHERE application_id = ?", id); err != nil {
			return internal("unlinking dashboards", err)
		}
		if n == 0 {
			return nil
		}
		return tx.addDevices(ctx, o, at, 0, n, -n)
	})
}

func (s *Store) CreateDashboard(ctx context.Context, d *accountd.Dashboard) error {
	return s.createOwned(ctx, "dashboards", &d.Owned, d)
}

func (s *Store) Dashboard(ctx context.Context, id string) (*accountd.Dashboard, error) {
	o, err := s.owned(ctx, "dashboards", "dashboard", id)
	if err != nil {
		return nil, err
	}
	return o.dashboard(), nil
}

func (s *Store) Dashboards(ctx context.Context, sc accountd.Scope, q accountd.ListQuery) ([]*accountd.Dashboard, int, error) {
	var out []*accountd.Dashboard
	total, err := s.listOwned(ctx, "dashboards", sc, q, func(o ownedRow) { out = append(out, o.dashboard()) })
	return out, total, err
}

func (s *Store) DeleteDashboard(ctx context.Context, id string) error {
	return s.deleteOwned(ctx, "dashboards", "dashboard", id)
}

// MoveOwned updates only a row the user owns, so that the check and the
// move are one statement.
func (s *Store) MoveOwned(ctx context.Context, kind, id, fromUserID, toType, toID string, at time.Time) (bool, error) {
	table, err := ownedTable(kind)
	if err != nil {
		return false, err
	}
	moved := false
	err = s.inTx(ctx, func(tx *Store) error {
		if err := tx.lockOwner(ctx, toType, toID, tx.d.ForShare); err != nil {
			return err
		}
		res, err := tx.exec(ctx, "UPDATE "+table+" SET owner_type = ?, owner_id = ?, updated_at = ? WHERE id = ? AND owner_type = 'user' AND owner_id = ?",
			toType, toID, millis(at), id, fromUserID)
		if err != nil {
			return internal("moving "+kind, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return internal("moving "+kind, err)
		}
		moved = n == 1
		if moved {
			tx.recordOwnerEvent(accountd.OwnerUser, fromUserID)
			tx.recordOwnerEvent(toType, toID)
		}
		if !moved || kind != accountd.KindApplication {
			return nil
		}
		// the devices go with the application: the update holds its row,
		// so no device is added or removed meanwhile
		devices, err := tx.countDevices(ctx, id)
		if err != nil || devices == 0 {
			return err
		}
		if err := tx.addDevices(ctx, accountd.OwnerRef{Type: accountd.OwnerUser, ID: fromUserID}, at, 0, 0, -devices); err != nil {
			return err
		}
		return tx.addDevices(ctx, accountd.OwnerRef{Type: toType, ID: toID}, at, 0, 0, devices)
	})
	return moved, err
}

var childSort = map[string]string{"name": "name", "id": "id", "creationDate": "created_at", "lastUpdated": "updated_at"}

// CreateDevice counts the device for its application's owner in the same
// transaction.
func (s *Store) CreateDevice(ctx context.Context, d *accountd.Device) error {
	return s.inTx(ctx, func(tx *Store) error {
		o, err := tx.appOwner(ctx, d.ApplicationID, tx.d.ForShare)
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, "INSERT INTO devices (id, application_id, name, description, device_class, parent_id, gateway_id, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			d.ID, d.ApplicationID, d.Name, d.Description, d.DeviceClass, d.ParentID, d.GatewayID, dataIn(d.Data), millis(d.CreatedAt), millis(d.UpdatedAt))
		switch {
		case err == nil:
			for _, tag := range uniqueTags(d.Tags) {
				if _, err := tx.exec(ctx, "INSERT INTO device_tags (device_id, key, value) VALUES (?, ?, ?)",
					d.ID, tag.Key, tag.Value); err != nil {
					return internal("creating device tags", err)
				}
			}
			tx.recordOwnerEvent(o.Type, o.ID)
			return tx.addDevices(ctx, o, d.CreatedAt, 1, 0, 1)
		case tx.d.IsForeignKeyViolation(err):
			return accountd.NotFound("application")
		default:
			return internal("creating device", err)
		}
	})
}

const deviceColumns = "id, application_id, name, description, device_class, parent_id, gateway_id, data, created_at, updated_at"

// uniqueTags drops repeated pairs, which the reference does not forbid but
// the tag rows cannot hold twice.
func uniqueTags(tags []accountd.Tag) []accountd.Tag {
	seen := make(map[accountd.Tag]bool, len(tags))
	out := tags[:0:0]
	for _, t := range tags {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func scanDevice(row scanner) (*accountd.Device, error) {
	var (
		d                accountd.Device
		data             string
		created, updated int64
	)
	err := row.Scan(&d.ID, &d.ApplicationID, &d.Name, &d.Description, &d.DeviceClass, &d.ParentID, &d.GatewayID, &data, &created, &updated)
	d.CreatedAt, d.UpdatedAt, d.Data = fromMillis(created), fromMillis(updated), dataOut(data)
	return &d, err
}

func (s *Store) Device(ctx context.Context, applicationID, id string) (*accountd.Device, error) {
	d, err := scanDevice(s.queryRow(ctx, "SELECT "+deviceColumns+" FROM devices WHERE id = ? AND application_id = ?", id, applicationID))
	switch {
	case err == nil:
		return d, nil
	case errors.Is(err, sql.ErrNoRows):
		return nil, accountd.NotFound("device")
	default:
		return nil, internal("reading device", err)
	}
}

// Devices reads one query; each tagFilter pair is an EXISTS on the tag
// rows of the device at hand, looked up by their primary key.
func (s *Store) Devices(ctx context.Context, f accountd.DeviceFilter, q accountd.ListQuery) ([]*accountd.Device, int, error) {
	var out []*accountd.Device
	where, args := " FROM devices WHERE application_id = ?", []any{f.ApplicationID}
	if f.HasParent {
		where, args = where+" AND parent_id = ?", append(args, f.ParentID)
	}
	if len(f.Classes) > 0 {
		where += " AND device_class IN (?" + strings.Repeat(", ?", len(f.Classes)-1) + ")"
		for _, c := range f.Classes {
			args = append(args, c)
		}
	}
	for _, t := range f.Tags {
		where += " AND EXISTS (SELECT 1 FROM device_tags t WHERE t.device_id = devices.id"
		if t.Key != "" {
			where, args = where+" AND t.key = ?", append(args, t.Key)
		}
		if t.Value != "" {
			where, args = where+" AND t.value = ?", append(args, t.Value)
		}
		where += ")"
	}
	if f.Query != nil {
		cond, qargs, err := s.queryCondition(f.Query, "devices", f.ApplicationID, deviceQueryFields)
		if err != nil {
			return nil, 0, err
		}
		where, args = where+" AND ("+cond+")", append(args, qargs...)
	}
	total, err := s.listPage(ctx, listSpec{
		what: "listing devices", columns: deviceColumns, from: where, args: args,
		sort: childSort, filter: nameOnly, idCol: "id",
	}, q, func(rows scanner) error {
		d, err := scanDevice(rows)
		out = append(out, d)
		return err
	})
	return out, total, err
}

func (s *Store) deleteChild(ctx context.Context, table, what, applicationID, id string) error {
	return s.inTx(ctx, func(tx *Store) error {
		res, err := tx.exec(ctx, "DELETE FROM "+table+" WHERE id = ? AND application_id = ?", id, applicationID)
		if err != nil {
			return internal("deleting "+what, err)
		}
		if err := oneRow(res, what, "deleting "+what); err != nil {
			return err
		}
		o, err := tx.appOwner(ctx, applicationID, "")
		if err != nil {
			return err
		}
		tx.recordOwnerEvent(o.Type, o.ID)
		return tx.forgetRecent(ctx, id)
	})
}

func (s *Store) DeleteDevice(ctx context.Context, applicationID, id string, at time.Time) error {
	return s.inTx(ctx, func(tx *Store) error {
		o, err := tx.appOwner(ctx, applicationID, tx.d.ForShare)
		if errors.Is(err, accountd.ErrNotFound) {
			return accountd.NotFound("device")
		}
		if err != nil {
			return err
		}
		if err := tx.deleteChild(ctx, "devices", "device", applicationID, id); err != nil {
			return err
		}
		// its children and the devices it was the gateway of lose it
		for _, col := range []string{"parent_id", "gateway_id"} {
			if _, err := tx.exec(ctx, "UPDATE devices SET "+col+" = '' WHERE application_id = ? AND "+col+" = ?", applicationID, id); err != nil {
				return internal("unlinking devices", err)
			}
		}
		return tx.addDevices(ctx, o, at, 0, 1, -1)
	})
}

func (s *Store) CreateFlow(ctx context.Context, f *accountd.Flow) error {
	return s.inTx(ctx, func(tx *Store) error {
		o, err := tx.appOwner(ctx, f.ApplicationID, tx.d.ForShare)
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, "INSERT INTO flows (id, application_id, name, description, enabled, flow_class, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			f.ID, f.ApplicationID, f.Name, f.Description, f.Enabled, f.FlowClass, dataIn(f.Data), millis(f.CreatedAt), millis(f.UpdatedAt))
		switch {
		case err == nil:
			tx.recordOwnerEvent(o.Type, o.ID)
			return nil
		case tx.d.IsForeignKeyViolation(err):
			return accountd.NotFound("application")
		default:
			return internal("creating flow", err)
		}
	})
}

const flowColumns = "id, application_id, name, description, enabled, flow_class, data, created_at, updated_at"

func scanFlow(row scanner) (*accountd.Flow, error) {
	var (
		f                accountd.Flow
		data             string
		created, updated int64
	)
	err := row.Scan(&f.ID, &f.ApplicationID, &f.Name, &f.Description, &f.Enabled, &f.FlowClass, &data, &created, &updated)
	f.CreatedAt, f.UpdatedAt, f.Data = fromMillis(created), fromMillis(updated), dataOut(data)
	return &f, err
}

func (s *Store) Flow(ctx context.Context, applicationID, id string) (*accountd.Flow, error) {
	f, err := scanFlow(s.queryRow(ctx, "SELECT "+flowColumns+" FROM flows WHERE id = ? AND application_id = ?", id, applicationID))
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, sql.ErrNoRows):
		return nil, accountd.NotFound("flow")
	default:
		return nil, internal("reading flow", err)
	}
}

func (s *Store) Flows(ctx context.Context, f accountd.FlowFilter, q accountd.ListQuery) ([]*accountd.Flow, int, error) {
	var out []*accountd.Flow
	where, args := " FROM flows WHERE application_id = ?", []any{f.ApplicationID}
	if len(f.Classes) > 0 {
		where += " AND flow_class IN (?" + strings.Repeat(", ?", len(f.Classes)-1) + ")"
		for _, c := range f.Classes {
			args = append(args, c)
		}
	}
	if len(f.Triggers) > 0 {
		cond, targs := s.triggerMatch(f.Triggers)
		where, args = where+" AND "+cond, append(args, targs...)
	}
	if f.Query != nil {
		cond, qargs, err := s.queryCondition(f.Query, "flows", f.ApplicationID, flowQueryFields)
		if err != nil {
			return nil, 0, err
		}
		where, args = where+" AND ("+cond+")", append(args, qargs...)
	}
	total, err := s.listPage(ctx, listSpec{
		what: "listing flows", columns: flowColumns, from: where, args: args,
		sort: childSort, filter: nameOnly, idCol: "id",
	}, q, func(rows scanner) error {
		f, err := scanFlow(rows)
		out = append(out, f)
		return err
	})
	return out, total, err
}

func (s *Store) DeleteFlow(ctx context.Context, applicationID, id string) error {
	return s.deleteChild(ctx, "flows", "flow", applicationID, id)
}

// AppSummaries is one statement of scalar subqueries per application,
// each read off the index on the application id; its list of ids is padded
// as MembersOf's is.
func (s *Store) AppSummaries(ctx context.Context, ids []string) (map[string]accountd.AppSummary, error) {
	out := make(map[string]accountd.AppSummary, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := paddedIDs(ids)
	rows, err := s.query(ctx, `SELECT a.id,
		(SELECT COUNT(*) FROM devices d WHERE d.application_id = a.id),
		(SELECT COUNT(*) FROM flows f WHERE f.application_id = a.id),
		(SELECT COUNT(*) FROM dashboards b WHERE b.application_id = a.id)
		FROM applications a WHERE a.id IN (`+strings.Repeat("?, ", len(args)-1)+"?)", args...)
	if err != nil {
		return nil, internal("counting application summaries", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			c  accountd.AppSummary
		)
		if err := rows.Scan(&id, &c.Devices, &c.Flows, &c.Dashboards); err != nil {
			return nil, internal("counting application summaries", err)
		}
		out[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, internal("counting application summaries", err)
	}
	return out, nil
}

func (s *Store) CountOwned(ctx context.Context, ownerType, ownerID string) (apps, dashboards int, err error) {
	if apps, err = s.count(ctx, "counting applications", "SELECT COUNT(*) FROM applications WHERE owner_id = ? AND owner_type = ?", ownerID, ownerType); err != nil {
		return 0, 0, err
	}
	dashboards, err = s.count(ctx, "counting dashboards", "SELECT COUNT(*) FROM dashboards WHERE owner_id = ? AND owner_type = ?", ownerID, ownerType)
	return apps, dashboards, err
}

// AddRecentItem numbers the use one past the list's highest, then trims
// the list to keep entries. Two uses at once may share a number; the item
// id then orders them, which is harmless.
func (s *Store) AddRecentItem(ctx context.Context, r accountd.RecentItem, keep int) error {
	return s.inTx(ctx, func(tx *Store) error {
		list := []any{r.UserID, r.ItemType, r.ParentID}
		const inList = "user_id = ? AND item_type = ? AND parent_id = ?"
		seq, err := tx.count(ctx, "adding recent item", "SELECT COALESCE(MAX(seq), 0) + 1 FROM recent_items WHERE "+inList, list...)
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, `INSERT INTO recent_items (user_id, item_type, parent_id, item_id, seq) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (user_id, item_type, parent_id, item_id) DO UPDATE SET seq = excluded.seq`,
			r.UserID, r.ItemType, r.ParentID, r.ItemID, seq)
		switch {
		case err != nil && tx.d.IsForeignKeyViolation(err):
			return accountd.NotFound("user")
		case err != nil:
			return internal("adding recent item", err)
		}
		_, err = tx.exec(ctx, "DELETE FROM recent_items WHERE "+inList+" AND seq <= (SELECT seq FROM recent_items WHERE "+inList+
			" ORDER BY seq DESC, item_id DESC LIMIT 1 OFFSET ?)", append(append(list, list...), keep)...)
		if err != nil {
			return internal("trimming recent items", err)
		}
		return nil
	})
}

func (s *Store) RecentItems(ctx context.Context, userID, itemType, parentID string) ([]accountd.NamedItem, error) {
	var q string
	args := append([]any{userID, itemType, parentID}, s.visibleArgs(userID)...)
	const recent = " FROM recent_items r "
	const where = " WHERE r.user_id = ? AND r.item_type = ? AND r.parent_id = ? AND "
	switch itemType {
	case accountd.KindApplication:
		q = "SELECT a.id, a.name" + recent + "JOIN applications a ON a.id = r.item_id" + where + s.visibleTo()
	case accountd.KindDashboard:
		q = "SELECT a.id, a.name" + recent + "JOIN dashboards a ON a.id = r.item_id" + where + s.visibleTo()
	case accountd.KindDevice:
		q = "SELECT x.id, x.name" + recent + "JOIN devices x ON x.id = r.item_id AND x.application_id = r.parent_id JOIN applications a ON a.id = x.application_id" + where + s.visibleTo()
	case accountd.KindFlow:
		q = "SELECT x.id, x.name" + recent + "JOIN flows x ON x.id = r.item_id AND x.application_id = r.parent_id JOIN applications a ON a.id = x.application_id" + where + s.visibleTo()
	case accountd.KindOrganization:
		q = "SELECT o.id, o.name" + recent + "JOIN orgs o ON o.id = r.item_id JOIN org_members m ON m.org_id = o.id AND m.user_id = r.user_id" +
			" WHERE r.user_id = ? AND r.item_type = ? AND r.parent_id = ?"
		args = args[:3]
	default:
		return nil, accountd.Invalid("itemType", "must be one of application, device, flow, dashboard, organization")
	}
	rows, err := s.query(ctx, q+" ORDER BY r.seq DESC, r.item_id DESC", args...)
	if err != nil {
		return nil, internal("listing recent items", err)
	}
	defer rows.Close()
	out := []accountd.NamedItem{}
	for rows.Next() {
		var it accountd.NamedItem
		if err := rows.Scan(&it.ID, &it.Name); err != nil {
			return nil, internal("listing recent items", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing recent items", err)
	}
	return out, nil
}

// triggerMatch is the condition that one of the triggers kept in a flow's
// data (blank when it keeps none) matches one of the pairs, a blank key or
// type matching any, with the pairs' words as parameters.
func (s *Store) triggerMatch(pairs []accountd.TriggerFilter) (string, []any) {
	key, typ := "json_extract(t.value, '$.key')", "json_extract(t.value, '$.type')"
	from := "json_each(CASE WHEN NOT json_valid(data) THEN '[]' WHEN json_type(data, '$.triggers') = 'array' THEN json_extract(data, '$.triggers') ELSE '[]' END) t"
	if s.d.Name == "postgres" {
		key, typ = "t ->> 'key'", "t ->> 'type'"
		from = "jsonb_array_elements(CASE WHEN jsonb_typeof(CAST(NULLIF(data, '') AS JSONB) -> 'triggers') = 'array' THEN CAST(NULLIF(data, '') AS JSONB) -> 'triggers' ELSE CAST('[]' AS JSONB) END) t"
	}
	var ors []string
	var args []any
	for _, p := range pairs {
		var ands []string
		if p.Key != "" {
			ands, args = append(ands, key+" = ?"), append(args, p.Key)
		}
		if p.Type != "" {
			ands, args = append(ands, typ+" = ?"), append(args, p.Type)
		}
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "EXISTS (SELECT 1 FROM " + from + " WHERE " + strings.Join(ors, " OR ") + ")", args
}
