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
	var (
		post       client.DevicePost
		createTags []string
		data       string
	)
	create := remoteCmd(f, "create APP --name NAME", "Add a device to an application", cobra.ExactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		tags, err := parseTags(createTags, true)
		if err != nil {
			return usageError{err}
		}
		post.Tags = nil
		for _, t := range tags {
			post.Tags = append(post.Tags, client.Tag{Key: t.Key, Value: t.Value})
		}
		post.Data = nil
		if data != "" {
			if err := json.Unmarshal([]byte(data), &post.Data); err != nil {
				return usageError{fmt.Errorf("--data: must be a JSON object of devicePost properties: %w", err)}
			}
		}
		d, err := c.Devices.Post(cmd.Context(), args[0], post)
		if err != nil {
			return err
		}
		return printDevices(cmd, d, *d)
	})
	create.Flags().StringVar(&post.Name, "name", "", "name (required)")
	create.Flags().StringVar(&post.Description, "description", "", "description")
	create.Flags().StringVar(&post.DeviceClass, "class", "", "device class (default standalone)")
	create.Flags().StringVar(&post.ParentID, "parent", "", "parent device (of the same application)")
	create.Flags().StringVar(&post.GatewayID, "gateway", "", "gateway device (of the same application)")
	create.Flags().StringArrayVar(&createTags, "tag", nil, "tag as KEY=VALUE (repeatable)")
	create.Flags().StringVar(&data, "data", "", `other documented properties as a JSON object, e.g. '{"attributes":[{"name":"temp","dataType":"number"}]}'`)
	create.MarkFlagRequired("name")

	var (
		listClasses, listTags []string
		listParent            string
	)
	list := remoteCmd(f, "list APP", "List an application's devices", cobra.ExactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		p := &client.DeviceListParams{DeviceClass: listClasses}
		tags, err := parseTags(listTags, false)
		if err != nil {
			return usageError{err}
		}
		p.TagFilter = tags
		if cmd.Flags().Changed("parent") {
			p.ParentID = &listParent
		}
		page, err := c.Devices.GetFiltered(cmd.Context(), args[0], p)
		if err != nil {
			return err
		}
		return printDevices(cmd, page, page.Items...)
	})
	list.Flags().StringArrayVar(&listClasses, "class", nil, "only devices of this class (repeatable)")
	list.Flags().StringArrayVar(&listTags, "tag", nil, "only devices with this tag, KEY=VALUE, KEY or =VALUE (repeatable: all must match)")
	list.Flags().StringVar(&listParent, "parent", "", `only the children of this device ("" for devices without a parent)`)

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

	cmd.AddCommand(create, sendState, list,
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

// parseTags reads KEY=VALUE tags; for a filter (whole false) KEY alone or
// =VALUE alone match any value or key.
func parseTags(args []string, whole bool) ([]client.TagFilter, error) {
	var out []client.TagFilter
	for _, a := range args {
		k, v, hasValue := strings.Cut(a, "=")
		if whole && (!hasValue || k == "" || v == "") {
			return nil, fmt.Errorf("--tag %q: must be KEY=VALUE", a)
		}
		if k == "" && v == "" {
			return nil, fmt.Errorf("--tag %q: needs a key or a value", a)
		}
		out = append(out, client.TagFilter{Key: k, Value: v})
	}
	return out, nil
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
