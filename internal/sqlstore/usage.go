package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accountd/accountd"
)

const (
	hourMs = int64(time.Hour / time.Millisecond)
	dayMs  = 24 * hourMs
)

// chunkSizes are the row counts multi-row statements are built for: a
// batch is cut greedily into these, so that only a handful of distinct
// statement texts exist however batches vary.
var chunkSizes = []int{256, 64, 16, 4, 1}

// chunks cuts n rows into chunkSizes, largest first.
func chunks(n int) []int {
	var out []int
	for _, size := range chunkSizes {
		for n >= size {
			out = append(out, size)
			n -= size
		}
	}
	return out
}

// valuesList is "(?, ?), (?, ?)" for rows rows of cols placeholders.
func valuesList(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// inList is "?, ?, ?" for n placeholders.
func inList(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// queryAll runs query and makes a T of each row with scan.
func queryAll[T any](ctx context.Context, s *Store, doing, query string, scan func(*sql.Rows) (T, error), args ...any) ([]T, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, internal(doing, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, internal(doing, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(doing, err)
	}
	return out, nil
}

func scanString(rows *sql.Rows) (string, error) {
	var v string
	err := rows.Scan(&v)
	return v, err
}

type payloadKey struct {
	owner       accountd.OwnerRef
	at          int64 // hour or day start
	typ, source string
}

type payloadSum struct{ count, bytes int64 }

type notebookSum struct{ minutes, completed, canceled, errored, timedOut int64 }

type ownerHour struct {
	owner accountd.OwnerRef
	hour  int64
}

func cmpOwner(a, b accountd.OwnerRef) int {
	return cmp.Or(strings.Compare(a.ID, b.ID), strings.Compare(a.Type, b.Type))
}

// RecordUsage keeps the first sighting of each id, then adds what is new to
// the sums. Rows are written in key order, so that concurrent batches on
// PostgreSQL take their row locks in one order and cannot deadlock.
func (s *Store) RecordUsage(ctx context.Context, recs []accountd.UsageRecord, at time.Time) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	recorded := 0
	err := s.inTx(ctx, func(tx *Store) error {
		fresh, err := tx.claimIDs(ctx, recs, at)
		if err != nil {
			return err
		}
		var u usageSums
		recorded = u.add(recs, fresh)
		if err := tx.addPayloads(ctx, "usage_payload_hours", "hour", u.hours); err != nil {
			return err
		}
		if err := tx.addPayloads(ctx, "usage_payload_days", "day", u.days); err != nil {
			return err
		}
		return tx.addNotebooks(ctx, u.notebooks)
	})
	if err != nil {
		return 0, err
	}
	return recorded, nil
}

// usageSums are a batch's records added up per row.
type usageSums struct {
	hours, days map[payloadKey]payloadSum
	notebooks   map[ownerHour]notebookSum
}

// add sums the records that have no id or whose id is fresh, and returns
// how many it took.
func (u *usageSums) add(recs []accountd.UsageRecord, fresh map[string]bool) int {
	u.hours = map[payloadKey]payloadSum{}
	u.days = map[payloadKey]payloadSum{}
	u.notebooks = map[ownerHour]notebookSum{}
	recorded := 0
	for i := range recs {
		r := &recs[i]
		if r.ID != "" && !fresh[r.ID] {
			continue
		}
		if r.ID != "" {
			delete(fresh, r.ID) // a repeat later in the batch is not new
		}
		recorded++
		h := millis(accountd.Hour(r.Time))
		switch r.Kind {
		case accountd.UsagePayload:
			k := payloadKey{owner: r.Owner, at: h, typ: r.Type, source: r.Source}
			v := u.hours[k]
			u.hours[k] = payloadSum{v.count + r.Count, v.bytes + r.Bytes}
			k.at = millis(accountd.Day(r.Time))
			v = u.days[k]
			u.days[k] = payloadSum{v.count + r.Count, v.bytes + r.Bytes}
		case accountd.UsageNotebookRun:
			k := ownerHour{r.Owner, h}
			v := u.notebooks[k]
			v.minutes += r.Minutes
			switch r.Status {
			case "completed":
				v.completed++
			case "canceled":
				v.canceled++
			case "errored":
				v.errored++
			case "timeout":
				v.timedOut++
			}
			u.notebooks[k] = v
		}
	}
	return recorded
}

// plainPayloads reports whether every record is a payload without an id
// (device states): nothing to claim, nothing but payload sums to add.
func plainPayloads(recs []accountd.UsageRecord) bool {
	for i := range recs {
		if recs[i].ID != "" || recs[i].Kind != accountd.UsagePayload {
			return false
		}
	}
	return true
}

func sortedPayloadKeys(sums map[payloadKey]payloadSum) []payloadKey {
	keys := make([]payloadKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b payloadKey) int {
		return cmp.Or(cmpOwner(a.owner, b.owner), cmp.Compare(a.at, b.at),
			strings.Compare(a.typ, b.typ), strings.Compare(a.source, b.source))
	})
	return keys
}

// AppendUsage inserts one row per owner, hour, type and source into
// usage_payload_pending: no row of it is ever updated, so concurrent
// batches take no lock another waits for and their commits overlap (on
// PostgreSQL, its own group commit then shares the WAL flushes). A batch
// of up to 256 such rows (every batch of device states in practice) is one
// statement, atomic by itself; a larger one is a transaction.
func (s *Store) AppendUsage(ctx context.Context, recs []accountd.UsageRecord) error {
	if len(recs) == 0 {
		return nil
	}
	if !plainPayloads(recs) {
		return accountd.Internal(errors.New("appending usage: only payload records without an id may be appended"))
	}
	var u usageSums
	u.add(recs, nil)
	keys := sortedPayloadKeys(u.hours)
	parts := chunks(len(keys))
	insert := func(tx *Store) error {
		for _, n := range parts {
			args := make([]any, 0, 7*n)
			for _, k := range keys[:n] {
				v := u.hours[k]
				args = append(args, k.owner.ID, k.owner.Type, k.at, k.typ, k.source, v.count, v.bytes)
			}
			keys = keys[n:]
			if _, err := tx.exec(ctx, "INSERT INTO usage_payload_pending (owner_id, owner_type, hour, type, source, count, bytes) VALUES "+valuesList(n, 7), args...); err != nil {
				return internal("appending payload usage", err)
			}
		}
		return nil
	}
	if len(parts) == 1 {
		return insert(s)
	}
	return s.inTx(ctx, insert)
}

// FoldUsage deletes the oldest appended rows and adds what they held to
// the hourly and daily sums, in one transaction: a read sees the rows
// either appended or in the sums, never both nor neither. On PostgreSQL
// the rows are taken FOR UPDATE SKIP LOCKED, so folders on several
// instances take different rows and never wait for one another's; SQLite
// has one writer at a time anyway. The sums are written in key order, as
// RecordUsage writes them.
func (s *Store) FoldUsage(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	folded := 0
	err := s.inTx(ctx, func(tx *Store) error {
		recs, err := queryAll(ctx, tx, "folding payload usage", "DELETE FROM usage_payload_pending WHERE seq IN (SELECT seq FROM usage_payload_pending ORDER BY seq LIMIT ?"+
			tx.d.SkipLocked+") RETURNING owner_id, owner_type, hour, type, source, count, bytes",
			func(rows *sql.Rows) (accountd.UsageRecord, error) {
				r := accountd.UsageRecord{UsageEvent: accountd.UsageEvent{Kind: accountd.UsagePayload}}
				var hour int64
				err := rows.Scan(&r.Owner.ID, &r.Owner.Type, &hour, &r.Type, &r.Source, &r.Count, &r.Bytes)
				r.Time = time.UnixMilli(hour).UTC()
				return r, err
			}, limit)
		if err != nil {
			return err
		}
		folded = len(recs)
		var u usageSums
		u.add(recs, nil)
		if err := tx.addPayloads(ctx, "usage_payload_hours", "hour", u.hours); err != nil {
			return err
		}
		return tx.addPayloads(ctx, "usage_payload_days", "day", u.days)
	})
	if err != nil {
		return 0, err
	}
	return folded, nil
}

// claimIDs records the batch's ids and returns those not seen before.
func (s *Store) claimIDs(ctx context.Context, recs []accountd.UsageRecord, at time.Time) (map[string]bool, error) {
	var ids []string
	seen := map[string]bool{}
	for i := range recs {
		if id := recs[i].ID; id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	fresh := make(map[string]bool, len(ids))
	now := millis(at)
	for _, n := range chunks(len(ids)) {
		part := ids[:n]
		ids = ids[n:]
		args := make([]any, 0, 2*n)
		for _, id := range part {
			args = append(args, id, now)
		}
		claimed, err := queryAll(ctx, s, "recording usage event ids", "INSERT INTO usage_event_ids (id, recorded_at) VALUES "+valuesList(n, 2)+
			" ON CONFLICT (id) DO NOTHING RETURNING id", scanString, args...)
		if err != nil {
			return nil, err
		}
		for _, id := range claimed {
			fresh[id] = true
		}
	}
	return fresh, nil
}

// addPayloads adds sums to table (usage_payload_hours or _days, whose time
// column is col).
func (s *Store) addPayloads(ctx context.Context, table, col string, sums map[payloadKey]payloadSum) error {
	keys := sortedPayloadKeys(sums)
	for _, n := range chunks(len(keys)) {
		part := keys[:n]
		keys = keys[n:]
		args := make([]any, 0, 7*n)
		for _, k := range part {
			v := sums[k]
			args = append(args, k.owner.ID, k.owner.Type, k.at, k.typ, k.source, v.count, v.bytes)
		}
		_, err := s.exec(ctx, "INSERT INTO "+table+" (owner_id, owner_type, "+col+", type, source, count, bytes) VALUES "+valuesList(n, 7)+
			" ON CONFLICT (owner_id, owner_type, "+col+", type, source) DO UPDATE SET count = "+table+".count + excluded.count, bytes = "+table+".bytes + excluded.bytes",
			args...)
		if err != nil {
			return internal("adding payload usage", err)
		}
	}
	return nil
}

func (s *Store) addNotebooks(ctx context.Context, sums map[ownerHour]notebookSum) error {
	keys := make([]ownerHour, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b ownerHour) int { return cmp.Or(cmpOwner(a.owner, b.owner), cmp.Compare(a.hour, b.hour)) })
	for _, n := range chunks(len(keys)) {
		part := keys[:n]
		keys = keys[n:]
		args := make([]any, 0, 8*n)
		for _, k := range part {
			v := sums[k]
			args = append(args, k.owner.ID, k.owner.Type, k.hour, v.minutes, v.completed, v.canceled, v.errored, v.timedOut)
		}
		_, err := s.exec(ctx, "INSERT INTO usage_notebook_hours (owner_id, owner_type, hour, minutes, completed, canceled, errored, timed_out) VALUES "+valuesList(n, 8)+
			` ON CONFLICT (owner_id, owner_type, hour) DO UPDATE SET minutes = usage_notebook_hours.minutes + excluded.minutes,
			completed = usage_notebook_hours.completed + excluded.completed, canceled = usage_notebook_hours.canceled + excluded.canceled,
			errored = usage_notebook_hours.errored + excluded.errored, timed_out = usage_notebook_hours.timed_out + excluded.timed_out`,
			args...)
		if err != nil {
			return internal("adding notebook usage", err)
		}
	}
	return nil
}

// addDevices records a change of the owner's devices in the hour of at.
func (s *Store) addDevices(ctx context.Context, o accountd.OwnerRef, at time.Time, created, deleted, net int64) error {
	_, err := s.exec(ctx, `INSERT INTO usage_device_hours (owner_id, owner_type, hour, created, deleted, net) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (owner_id, owner_type, hour) DO UPDATE SET created = usage_device_hours.created + excluded.created,
		deleted = usage_device_hours.deleted + excluded.deleted, net = usage_device_hours.net + excluded.net`,
		o.ID, o.Type, millis(accountd.Hour(at)), created, deleted, net)
	if err != nil {
		return internal("recording device counts", err)
	}
	return nil
}

// appOwner reads the application's owner, holding its row with lock until
// the transaction ends: device changes take it shared, deleting or moving
// the application exclusively, so that device counts follow the devices.
func (s *Store) appOwner(ctx context.Context, id, lock string) (accountd.OwnerRef, error) {
	var o accountd.OwnerRef
	err := s.queryRow(ctx, "SELECT owner_type, owner_id FROM applications WHERE id = ?"+lock, id).Scan(&o.Type, &o.ID)
	switch {
	case err == nil:
		return o, nil
	case errors.Is(err, sql.ErrNoRows):
		return o, accountd.NotFound("application")
	default:
		return o, internal("reading application owner", err)
	}
}

func (s *Store) countDevices(ctx context.Context, applicationID string) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, "SELECT COUNT(*) FROM devices WHERE application_id = ?", applicationID).Scan(&n); err != nil {
		return 0, internal("counting devices", err)
	}
	return n, nil
}

// forgetUsage drops an owner's usage, when the owner is deleted. The
// appended rows go first: on PostgreSQL that waits for a folder holding
// some of them to commit, and the statements after it then see what the
// folder added to the sums.
func (s *Store) forgetUsage(ctx context.Context, ownerType, ownerID string) error {
	for _, table := range []string{"usage_payload_pending", "usage_payload_hours", "usage_payload_days", "usage_device_hours", "usage_notebook_hours"} {
		if _, err := s.exec(ctx, "DELETE FROM "+table+" WHERE owner_id = ? AND owner_type = ?", ownerID, ownerType); err != nil {
			return internal("dropping usage", err)
		}
	}
	return nil
}

func (s *Store) ForgetUsageIDs(ctx context.Context, before time.Time) error {
	if _, err := s.exec(ctx, "DELETE FROM usage_event_ids WHERE recorded_at < ?", millis(before)); err != nil {
		return internal("dropping usage event ids", err)
	}
	return nil
}

func (s *Store) ApplicationOwners(ctx context.Context, ids []string) (map[string]accountd.OwnerRef, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make(map[string]accountd.OwnerRef, len(ids))
	for _, n := range chunks(len(ids)) {
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		ids = ids[n:]
		type owner struct {
			id string
			o  accountd.OwnerRef
		}
		found, err := queryAll(ctx, s, "reading application owners", "SELECT id, owner_type, owner_id FROM applications WHERE id IN ("+inList(n)+")",
			func(rows *sql.Rows) (owner, error) {
				var v owner
				return v, rows.Scan(&v.id, &v.o.Type, &v.o.ID)
			}, args...)
		if err != nil {
			return nil, err
		}
		for _, v := range found {
			out[v.id] = v.o
		}
	}
	return out, nil
}

// PayloadTotals reads whole days from the daily sums and the hours at
// either end from the hourly ones, so a year is a few thousand rows, and
// adds the appended rows of the range (one statement: one snapshot, so a
// fold under way is seen before or after, whole). Each part is a plain
// range of a key: an OR of two hour ranges made both SQLite and
// PostgreSQL (without statistics) read the owner's whole hourly history.
func (s *Store) PayloadTotals(ctx context.Context, o accountd.OwnerRef, from, to time.Time) ([]accountd.PayloadTotal, error) {
	lo, hi := millis(accountd.Hour(from)), millis(accountd.Hour(to))+hourMs // [lo, hi)
	dayLo := (lo + dayMs - 1) / dayMs * dayMs                               // first whole day
	dayHi := hi / dayMs * dayMs                                             // end of the last whole day
	if dayLo >= dayHi {
		dayLo, dayHi = hi, hi // no whole day: hours only
	}
	return queryAll(ctx, s, "reading payload usage", `SELECT type, source, SUM(count), SUM(bytes) FROM (
		SELECT type, source, count, bytes FROM usage_payload_hours WHERE owner_id = ? AND owner_type = ? AND hour >= ? AND hour < ?
		UNION ALL
		SELECT type, source, count, bytes FROM usage_payload_hours WHERE owner_id = ? AND owner_type = ? AND hour >= ? AND hour < ?
		UNION ALL
		SELECT type, source, count, bytes FROM usage_payload_days WHERE owner_id = ? AND owner_type = ? AND day >= ? AND day < ?
		UNION ALL
		SELECT type, source, count, bytes FROM usage_payload_pending WHERE owner_id = ? AND owner_type = ? AND hour >= ? AND hour < ?
	) t GROUP BY type, source ORDER BY type, source`,
		func(rows *sql.Rows) (accountd.PayloadTotal, error) {
			var t accountd.PayloadTotal
			return t, rows.Scan(&t.Type, &t.Source, &t.Count, &t.Bytes)
		},
		o.ID, o.Type, lo, dayLo, o.ID, o.Type, dayHi, hi, o.ID, o.Type, dayLo, dayHi, o.ID, o.Type, lo, hi)
}

// PayloadSeries adds the appended rows of the range to the sums in the
// same statement, by their hour or by the day of their hour.
func (s *Store) PayloadSeries(ctx context.Context, o accountd.OwnerRef, from, to time.Time, daily bool, types []string) ([]accountd.PayloadBucket, error) {
	table, col, pendingAt := "usage_payload_hours", "hour", "hour"
	lo, hi := millis(accountd.Hour(from)), millis(accountd.Hour(to))
	pendingHi := hi + hourMs // appended rows are by hour: [lo, end of the last bucket)
	if daily {
		table, col, pendingAt = "usage_payload_days", "day", "hour / "+strconv.FormatInt(dayMs, 10)+" * "+strconv.FormatInt(dayMs, 10)
		lo, hi = millis(accountd.Day(from)), millis(accountd.Day(to))
		pendingHi = hi + dayMs
	}
	if len(types) == 0 {
		return nil, nil
	}
	typeArgs := make([]any, len(types))
	for i, t := range types {
		typeArgs[i] = t
	}
	args := append([]any{o.ID, o.Type, lo, hi}, typeArgs...)
	args = append(append(args, o.ID, o.Type, lo, pendingHi), typeArgs...)
	in := inList(len(types))
	return queryAll(ctx, s, "reading payload usage", "SELECT bucket, SUM(count), SUM(bytes) FROM ("+
		"SELECT "+col+" AS bucket, count, bytes FROM "+table+
		" WHERE owner_id = ? AND owner_type = ? AND "+col+" >= ? AND "+col+" <= ? AND type IN ("+in+")"+
		" UNION ALL SELECT "+pendingAt+" AS bucket, count, bytes FROM usage_payload_pending"+
		" WHERE owner_id = ? AND owner_type = ? AND hour >= ? AND hour < ? AND type IN ("+in+")"+
		") t GROUP BY bucket ORDER BY bucket",
		func(rows *sql.Rows) (accountd.PayloadBucket, error) {
			var (
				b  accountd.PayloadBucket
				at int64
			)
			err := rows.Scan(&at, &b.Count, &b.Bytes)
			b.At = time.UnixMilli(at).UTC()
			return b, err
		}, args...)
}

func (s *Store) DeviceHours(ctx context.Context, o accountd.OwnerRef, from, to time.Time) (int64, []accountd.DeviceHour, error) {
	lo, hi := millis(accountd.Hour(from)), millis(accountd.Hour(to))
	var before int64
	if err := s.queryRow(ctx, "SELECT COALESCE(SUM(net), 0) FROM usage_device_hours WHERE owner_id = ? AND owner_type = ? AND hour < ?",
		o.ID, o.Type, lo).Scan(&before); err != nil {
		return 0, nil, internal("reading device counts", err)
	}
	hours, err := queryAll(ctx, s, "reading device counts", "SELECT hour, created, deleted, net FROM usage_device_hours WHERE owner_id = ? AND owner_type = ? AND hour >= ? AND hour <= ? ORDER BY hour",
		func(rows *sql.Rows) (accountd.DeviceHour, error) {
			var (
				d accountd.DeviceHour
				h int64
			)
			err := rows.Scan(&h, &d.Created, &d.Deleted, &d.Net)
			d.Hour = time.UnixMilli(h).UTC()
			return d, err
		}, o.ID, o.Type, lo, hi)
	return before, hours, err
}

func (s *Store) NotebookHours(ctx context.Context, o accountd.OwnerRef, from, to time.Time) ([]accountd.NotebookHour, error) {
	lo, hi := millis(accountd.Hour(from)), millis(accountd.Hour(to))
	return queryAll(ctx, s, "reading notebook usage", "SELECT hour, minutes, completed, canceled, errored, timed_out FROM usage_notebook_hours WHERE owner_id = ? AND owner_type = ? AND hour >= ? AND hour <= ? ORDER BY hour",
		func(rows *sql.Rows) (accountd.NotebookHour, error) {
			var (
				n accountd.NotebookHour
				h int64
			)
			err := rows.Scan(&h, &n.Minutes, &n.Completed, &n.Canceled, &n.Errored, &n.TimedOut)
			n.Hour = time.UnixMilli(h).UTC()
			return n, err
		}, o.ID, o.Type, lo, hi)
}
