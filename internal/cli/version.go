package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// Set at build time by scripts/release.sh:
//
//	-ldflags "-X github.com/accountd/accountd/internal/cli.version=v1.2.3
//	          -X github.com/accountd/accountd/internal/cli.commit=<git commit>
//	          -X github.com/accountd/accountd/internal/cli.buildTime=2026-01-02T03:04:05Z"
//
// Unset, they come from the build information Go embeds (the module
// version with `go install module@version`; the commit and its time with a
// build in a git checkout, unless -buildvcs=false).
var (
	version   = ""
	commit    = ""
	buildTime = ""
)

// buildInfo says which accountd this is.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Modified  bool   `json:"modified"`
	CommitAt  string `json:"commitTime,omitempty"`
	BuildTime string `json:"buildTime,omitempty"`
	Go        string `json:"go"`
	Platform  string `json:"platform"`
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: commit, BuildTime: buildTime, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				b.CommitAt = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "devel"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

// short is the one-line form servers log and --version prints.
func (b buildInfo) short() string {
	s := b.Version
	if b.Commit != "unknown" {
		c := b.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += " (" + c
		if b.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s
}

func versionCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build time",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := readBuildInfo()
			f := &remoteFlags{output: output}
			if err := f.checkOutput(); err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), b, func(tw *tabwriter.Writer) {
				row := func(k, v string) {
					if v != "" {
						fmt.Fprintf(tw, "%s\t%s\n", k, v)
					}
				}
				row("version", b.Version)
				commit := b.Commit
				if b.Modified {
					commit += " (with uncommitted changes)"
				}
				row("commit", commit)
				row("commit time", b.CommitAt)
				row("build time", b.BuildTime)
				row("go", b.Go)
				row("platform", b.Platform)
			})
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}
