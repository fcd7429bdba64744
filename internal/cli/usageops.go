package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/httpapi"
	"github.com/accountd/accountd/service"
	"github.com/spf13/cobra"
)

// importBatch is how many events `usage import` records per transaction.
const importBatch = 5000

func usageImportCmd() *cobra.Command {
	var f dbFlags
	var out *remoteFlags
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Record usage events from an NDJSON file (operator; - reads stdin)",
		Long: `Record usage events into the database directly: one JSON event a line, as
POST /usage/events takes them, e.g.

  {"id":"broker-1:81723","kind":"payload","time":1763856000000,"applicationId":"...","type":"mqttIn","source":"mqtt","count":12,"bytes":2048}
  {"id":"nb-7:run-42","kind":"notebookRun","time":1763856000000,"applicationId":"...","minutes":3.5,"status":"completed"}

Events are recorded in batches of 5000; an event whose id was recorded
before is skipped, so a file can be imported again after a failure. A bad
line stops the import, saying which line and why.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.checkOutput(); err != nil {
				return err
			}
			in, closeIn, err := openInput(cmd, args[0])
			if err != nil {
				return err
			}
			defer closeIn()
			svc, done, err := operatorService(cmd, &f)
			if err != nil {
				return err
			}
			defer done()
			return importUsage(cmd, svc, in, out)
		},
	}
	f.register(cmd)
	out = outputFlag(cmd)
	return cmd
}

func importUsage(cmd *cobra.Command, svc *service.Service, in io.Reader, out *remoteFlags) error {
	var (
		events   []accountd.UsageEvent
		lines    []int // the line of each event in events
		received int
		recorded int
	)
	flush := func() error {
		if len(events) == 0 {
			return nil
		}
		res, err := svc.RecordUsage(cmd.Context(), events, func(i int) string { return fmt.Sprintf("line %d", lines[i]) })
		if err != nil {
			return err
		}
		received += res.Received
		recorded += res.Recorded
		events, lines = events[:0], lines[:0]
		return nil
	}
	fail := func(err error) error {
		if received == 0 {
			fmt.Fprintln(cmd.ErrOrStderr(), "nothing was recorded")
		} else {
			fmt.Fprintf(cmd.ErrOrStderr(), "the %d events before the failing batch were recorded (%d of them new); importing the file again skips them\n", received, recorded)
		}
		var e *accountd.Error
		if errors.As(err, &e) && e.Code == accountd.CodeInvalid {
			return usageError{errors.New(e.Message)}
		}
		return err
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		e, err := httpapi.ParseUsageEvent(line, fmt.Sprintf("line %d", n))
		if err != nil {
			return fail(err)
		}
		events, lines = append(events, e), append(lines, n)
		if len(events) == importBatch {
			if err := flush(); err != nil {
				return fail(err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fail(fmt.Errorf("reading: %w", err))
	}
	if err := flush(); err != nil {
		return fail(err)
	}
	return out.done(cmd.OutOrStdout(), map[string]int{"received": received, "recorded": recorded, "duplicates": received - recorded},
		fmt.Sprintf("read %d events: recorded %d, skipped %d already recorded", received, recorded, received-recorded))
}

func usageKeygenCmd() *cobra.Command {
	var f *remoteFlags
	cmd := &cobra.Command{
		Use:   "keygen NAME",
		Short: "Make a usage key for a platform service (operator)",
		Long: `Make a key a platform service reports usage with (POST /usage/events,
Authorization: Bearer KEY). The key is printed once; the line after it goes
into the --usage-keys-file of every instance, which holds only its SHA-256.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.checkOutput(); err != nil {
				return err
			}
			key, line, err := service.NewUsageKey(randReader, args[0])
			if err != nil {
				return usageError{err}
			}
			out := cmd.OutOrStdout()
			if f.output == "json" {
				return f.print(out, map[string]string{"name": args[0], "key": key, "keysFileLine": line}, nil)
			}
			fmt.Fprintln(out, "# the service's key (shown once; keep it secret):")
			fmt.Fprintln(out, key)
			fmt.Fprintln(out, "# the line for --usage-keys-file:")
			fmt.Fprintln(out, line)
			return nil
		},
	}
	f = outputFlag(cmd)
	return cmd
}
