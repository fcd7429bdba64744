package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/spf13/cobra"
)

// Client commands for invitations, recent items, organizations,
// applications and transfers. Each is a thin layer over one SDK call.

// remoteCmd builds a client command whose body gets a ready SDK client.
func remoteCmd(f *remoteFlags, use, short string, args cobra.PositionalArgs,
	run func(cmd *cobra.Command, c *client.Client, args []string) error) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: args,
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			if err := run(cmd, c, a); err != nil {
				return remoteError(err)
			}
			return nil
		},
	}
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func invitesCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	cmd := &cobra.Command{Use: "invites", Short: "Organization invitations addressed to you (/me/invites)"}
	f.register(cmd)
	printInvites := func(cmd *cobra.Command, v any, invites ...client.UserInvite) error {
		return f.print(cmd.OutOrStdout(), v, func(tw *tabwriter.Writer) {
			fmt.Fprintln(tw, "ID\tORGANIZATION\tROLE\tINVITED BY\tDATE\tEXPIRED")
			for _, i := range invites {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\n", i.ID, i.OrgName, i.Role, i.InvitedBy.Email, fmtTime(i.InviteDate), i.Expired)
			}
		})
	}
	cmd.AddCommand(
		remoteCmd(f, "list", "List pending invitations", cobra.NoArgs, func(cmd *cobra.Command, c *client.Client, _ []string) error {
			l, err := c.Me.Invites(cmd.Context())
			if err != nil {
				return err
			}
			return printInvites(cmd, l, l...)
		}),
		remoteCmd(f, "show ID", "Show one invitation", cobra.ExactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
			i, err := c.Me.Invite(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printInvites(cmd, i, *i)
		}),
	)
	for _, action := range []struct{ name, short string }{
		{"accept", "Accept an invitation: join the organization with the invited role"},
		{"reject", "Reject an invitation"},
		{"dismiss", "Dismiss an invitation without answering the organization"},
	} {
		cmd.AddCommand(remoteCmd(f, action.name+" ID", action.short, cobra.ExactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
			r, err := c.Me.RespondToInvite(cmd.Context(), args[0], action.name)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), r, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "%s\t(organization %s)\n", r.Result, r.OrgID)
			})
		}))
	}
	return cmd
}

func recentCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	var parent string
	cmd := remoteCmd(f, "recent TYPE", "List recent items: application, dashboard, organization, or device/flow with --parent", cobra.ExactArgs(1),
		func(cmd *cobra.Command, c *client.Client, args []string) error {
			l, err := c.Me.FetchRecentItems(cmd.Context(), args[0], parent)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), l, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "ID\tNAME")
				for _, it := range l.Items {
					fmt.Fprintf(tw, "%s\t%s\n", it.ID, it.Name)
				}
			})
		})
	f.register(cmd)
	cmd.ValidArgsFunction = fixed(recentTypes...)
	cmd.Flags().StringVar(&parent, "parent", "", "application id, for device and flow lists")
	return cmd
}

func orgsCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	cmd := &cobra.Command{Use: "orgs", Short: "Organizations, their members and invitations"}
	f.register(cmd)
	printOrgs := func(cmd *cobra.Command, v any, orgs ...client.Org) error {
		return f.print(cmd.OutOrStdout(), v, func(tw *tabwriter.Writer) {
			fmt.Fprintln(tw, "ID\tNAME\tMFA\tMEMBERS")
			for _, o := range orgs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", o.ID, o.Name, o.MFAMode, len(o.Members))
			}
		})
	}
	printMembers := func(cmd *cobra.Command, o *client.Org) error {
		return f.print(cmd.OutOrStdout(), o, func(tw *tabwriter.Writer) {
			fmt.Fprintf(tw, "%s\t%s\n\nUSER\tEMAIL\tROLE\tRESOURCE ROLES\n", o.ID, o.Name)
			for _, m := range o.Members {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.UserID, m.Email, m.Role, resourceRolesText(m))
			}
		})
	}
	printOrgInvites := func(cmd *cobra.Command, l []client.OrgInvite) error {
		return f.print(cmd.OutOrStdout(), l, func(tw *tabwriter.Writer) {
			fmt.Fprintln(tw, "ID\tEMAIL\tROLE\tDATE\tEXPIRED")
			for _, i := range l {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", i.ID, i.Email, i.Role, fmtTime(i.InviteDate), i.HasExpired)
			}
		})
	}
	var post client.OrgPost
	create := remoteCmd(f, "create --name NAME", "Create an organization; you are its admin", cobra.NoArgs, func(cmd *cobra.Command, c *client.Client, _ []string) error {
		o, err := c.Orgs.Post(cmd.Context(), post)
		if err != nil {
			return err
		}
		return printOrgs(cmd, o, *o)
	})
	create.Flags().StringVar(&post.Name, "name", "", "name (required)")
	create.Flags().StringVar(&post.Description, "description", "", "description")
	create.Flags().StringVar(&post.MFAMode, "mfa", "", "notRequired, adminRequired or required")
	create.Flags().StringVar(&post.PlanID, "plan", "", "plan id, kept as data")
	create.Flags().StringVar(&post.BillingEmail, "billing-email", "", "billing email address, kept as data")
	create.MarkFlagRequired("name")

	var (
		invite      client.OrgInvitePost
		inviteRoles resourceRoleFlags
	)
	inviteCmd := remoteCmd(f, "invite ORG --email EMAIL --role ROLE", "Invite someone to an organization", cobra.ExactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
		var err error
		if invite.ApplicationRoles, err = parseResourceRoles("app-role", inviteRoles.apps); err != nil {
			return err
		}
		if invite.DashboardRoles, err = parseResourceRoles("dashboard-role", inviteRoles.dashes); err != nil {
			return err
		}
		l, err := c.Org.InviteMember(cmd.Context(), args[0], invite)
		if err != nil {
			return err
		}
		return printOrgInvites(cmd, l)
	})
	inviteCmd.Flags().StringVar(&invite.Email, "email", "", "whom to invite (required)")
	inviteCmd.Flags().StringVar(&invite.Role, "role", "view", "admin, edit, collaborate, view or none (none: only what --app-role and --dashboard-role grant)")
	inviteCmd.Flags().BoolVar(&invite.DisallowTransfer, "disallow-transfer", false, "the member may not transfer resources into the organization")
	inviteRoles.register(inviteCmd.Flags(), "")
	inviteCmd.MarkFlagRequired("email")

	var (
		member      client.OrgMemberPatch
		memberRoles resourceRoleFlags
	)
	setRole := remoteCmd(f, "set-role ORG USER [--role ROLE] [--app-role ID=ROLE]... [--dashboard-role ID=ROLE]...", "Give a member another role, or other roles on single resources", cobra.ExactArgs(2), func(cmd *cobra.Command, c *client.Client, args []string) error {
		member.UserID = args[1]
		for _, r := range []struct {
			flag   string
			values []string
			into   **[]client.ResourceRole
		}{{"app-role", memberRoles.apps, &member.ApplicationRoles}, {"dashboard-role", memberRoles.dashes, &member.DashboardRoles}} {
			if !cmd.Flags().Changed(r.flag) {
				continue
			}
			roles, err := parseResourceRoles(r.flag, r.values)
			if err != nil {
				return err
			}
			*r.into = &roles
		}
		o, err := c.Org.ModifyMember(cmd.Context(), args[0], member)
		if err != nil {
			return err
		}
		return printMembers(cmd, o)
	})
	setRole.Flags().StringVar(&member.Role, "role", "", "admin, edit, collaborate, view or none")
	memberRoles.register(setRole.Flags(), "; given, they replace the member's roles on resources of that kind (--app-role= clears them)")

	cmd.AddCommand(create, inviteCmd, setRole,
		remoteCmd(f, "list", "List the organizations you belong to", cobra.NoArgs, func(cmd *cobra.Command, c *client.Client, _ []string) error {
			p, err := c.Orgs.Get(cmd.Context(), nil)
			if err != nil {
				return err
			}
			return printOrgs(cmd, p, p.Items...)
		}),
		remoteCmd(f, "get ORG", "Show an organization and its members", cobra.ExactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
			o, err := c.Org.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printMembers(cmd, o)
		}),
		remoteCmd(f, "delete ORG", "Delete an organization (it must own nothing)", cobra.ExactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
			if err := c.Org.Delete(cmd.Context(), args[0]); err != nil {
				return err
			}
			return f.done(cmd.OutOrStdout(), client.Success{Success: true}, "Deleted "+args[0]+".")
		}),
		remoteCmd(f, "invites ORG", "List an organization's pending invitations", cobra.ExactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
			l, err := c.Org.PendingInvites(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printOrgInvites(cmd, l)
		}),
		remoteCmd(f, "revoke-invite ORG INVITE", "Revoke a pending invitation", cobra.ExactArgs(2), func(cmd *cobra.Command, c *client.Client, args []string) error {
			l, err := c.Org.RevokeInvite(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			return printOrgInvites(cmd, l)
		}),
		remoteCmd(f, "remove-member ORG USER", "Remove a member", cobra.ExactArgs(2), func(cmd *cobra.Command, c *client.Client, args []string) error {
			o, err := c.Org.RemoveMember(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			return printMembers(cmd, o)
		}),
	)
	return cmd
}

func appsCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	cmd := &cobra.Command{Use: "apps", Short: "Applications you own or can see through organizations"}
	f.register(cmd)
	printApps := func(cmd *cobra.Command, v any, apps ...client.Owned) error {
		return f.print(cmd.OutOrStdout(), v, func(tw *tabwriter.Writer) {
			fmt.Fprintln(tw, "ID\tNAME\tOWNER\tOWNER TYPE")
			for _, a := range apps {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.ID, a.Name, a.OwnerID, a.OwnerType)
			}
		})
	}
	var post client.OwnedPost
	create := remoteCmd(f, "create --name NAME", "Create an application (yours, or an organization's with --org)", cobra.NoArgs, func(cmd *cobra.Command, c *client.Client, _ []string) error {
		a, err := c.Applications.Post(cmd.Context(), post)
		if err != nil {
			return err
		}
		return printApps(cmd, a, *a)
	})
	create.Flags().StringVar(&post.Name, "name", "", "name (required)")
	create.Flags().StringVar(&post.Description, "description", "", "description")
	create.Flags().StringVar(&post.OrgID, "org", "", "owning organization id")
	create.MarkFlagRequired("name")
	cmd.AddCommand(create,
		remoteCmd(f, "list", "List applications", cobra.NoArgs, func(cmd *cobra.Command, c *client.Client, _ []string) error {
			p, err := c.Applications.Get(cmd.Context(), nil)
			if err != nil {
				return err
			}
			return printApps(cmd, p, p.Items...)
		}),
		remoteCmd(f, "get ID", "Show an application", cobra.ExactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
			a, err := c.Application.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printApps(cmd, a, *a)
		}),
		remoteCmd(f, "delete ID", "Delete an application with its devices and flows", cobra.ExactArgs(1), func(cmd *cobra.Command, c *client.Client, args []string) error {
			if err := c.Application.Delete(cmd.Context(), args[0]); err != nil {
				return err
			}
			return f.done(cmd.OutOrStdout(), client.Success{Success: true}, "Deleted "+args[0]+".")
		}),
	)
	return cmd
}

func transferCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	var t client.ResourceTransfer
	cmd := remoteCmd(f, "transfer --to ID --to-type user|organization [--app ID]... [--dashboard ID]...",
		"Move applications and dashboards you own to a user or an organization", cobra.NoArgs,
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			r, err := c.Me.TransferResources(cmd.Context(), t)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), r, func(tw *tabwriter.Writer) {
				if r.NotTransferred == nil {
					fmt.Fprintln(tw, "Everything moved.")
					return
				}
				fmt.Fprintln(tw, "NOT MOVED\tID")
				for _, id := range r.NotTransferred.ApplicationIDs {
					fmt.Fprintf(tw, "application\t%s\n", id)
				}
				for _, id := range r.NotTransferred.DashboardIDs {
					fmt.Fprintf(tw, "dashboard\t%s\n", id)
				}
			})
		})
	f.register(cmd)
	fs := cmd.Flags()
	fs.StringVar(&t.DestinationID, "to", "", "user or organization id (required)")
	fs.StringVar(&t.DestinationType, "to-type", "organization", "user or organization")
	fs.StringSliceVar(&t.ApplicationIDs, "app", nil, "application ids")
	fs.StringSliceVar(&t.DashboardIDs, "dashboard", nil, "dashboard ids")
	fs.BoolVar(&t.Strict, "strict", false, "move nothing unless everything can move")
	cmd.MarkFlagRequired("to")
	return cmd
}
