package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/accountd/accountd/client"
	"github.com/spf13/cobra"
)

func devicesCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	cmd := &cobra.Command{Use: "devices", Short: "Devices of an application, and the states they report"}
	f.register(cmd)
	printDevices := func(cmd *cobra.Command, v any, devices ...client.Device) error {
		return f.print(cmd.OutOrStdout(), v, func(tw *tabwriter.Writer) {
			fmt.Fprintln(tw, "ID\tNAME\tCLASS\tAPPLICATION")
			for _, d := range devices {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.ID, d.Name, d.DeviceClass, d.ApplicationID)
			}
		})
	}
	var post client.DevicePost
	create := remoteCmd(f, "create APP --name NAME", "Add a device to an application", cobra.ExactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		d, err := c.Devices.Post(cmd.Context(), args[0], post)
		if err != nil {
			return err
		}
		return printDevices(cmd, d, *d)
	})
	create.Flags().StringVar(&post.Name, "name", "", "name (required)")
	create.Flags().StringVar(&post.Description, "description", "", "description")
	create.Flags().StringVar(&post.DeviceClass, "class", "", "device class (default standalone)")
	create.MarkFlagRequired("name")

	sendState := remoteCmd(f, "send-state APP DEVICE STATE|-",
		`Send a device state, or an array of them, as JSON: {"data": {"temp": 21.5}, "time": 1700000000000}; "-" reads standard input`,
		cobra.ExactArgs(3), func(cmd *cobra.Command, c *client.Client, args []string) error {
			raw := args[2]
			if raw == "-" {
				b, err := io.ReadAll(cmd.InOrStdin())
				if err != nil {
					return err
				}
				raw = string(b)
			}
			states, err := parseStates(raw)
			if err != nil {
				return usageError{err}
			}
			if err := c.Device.SendState(cmd.Context(), args[0], args[1], states...); err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), map[string]any{"success": true, "states": len(states)}, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "Sent %d state(s).\n", len(states))
			})
		})

	cmd.AddCommand(create, sendState,
		remoteCmd(f, "list APP", "List an application's devices", cobra.ExactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
			p, err := c.Devices.Get(cmd.Context(), args[0], nil)
			if err != nil {
				return err
			}
			return printDevices(cmd, p, p.Items...)
		}),
		remoteCmd(f, "get APP DEVICE", "Show a device", cobra.ExactArgs(2), func(cmd *cobra.Command, c *client.Client, args []string) error {
			d, err := c.Device.Get(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			return printDevices(cmd, d, *d)
		}),
		remoteCmd(f, "delete APP DEVICE", "Delete a device", cobra.ExactArgs(2), func(cmd *cobra.Command, c *client.Client, args []string) error {
			if err := c.Device.Delete(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			return f.done(cmd.OutOrStdout(), client.Success{Success: true}, "Deleted "+args[1]+".")
		}),
	)
	return cmd
}

// parseStates reads one device state or an array of them.
func parseStates(raw string) ([]client.DeviceState, error) {
	raw = strings.TrimSpace(raw)
	if strings.HasPrefix(raw, "[") {
		var states []client.DeviceState
		if err := json.Unmarshal([]byte(raw), &states); err != nil {
			return nil, fmt.Errorf("states: %w", err)
		}
		return states, nil
	}
	var s client.DeviceState
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return []client.DeviceState{s}, nil
}
