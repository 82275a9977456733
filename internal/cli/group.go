package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/puente-project/puente/internal/node"
	"github.com/puente-project/puente/internal/store"
)

const groupUsage = `Usage:
  puente group create --dir DIR --name NAME [--members CODES] [--default-marking LEVEL] [--description TEXT]
  puente group list --dir DIR
  puente group add-member --dir DIR --name NAME --party CODE
  puente group remove-member --dir DIR --name NAME --party CODE
  puente group archive|reopen --dir DIR --name NAME

Create and list working groups, change their member parties, and archive
them. On a node, each working group is a TAXII
collection. Run 'puente group create -h' for details.

Examples:
  puente group create --dir ./mex --name fentanyl --members MEX,USA
  puente group list --dir ./mex
`

const groupCreateUsage = `Usage:
  puente group create --dir DIR --name NAME [--members CODES] [--default-marking LEVEL] [--description TEXT]

Create a working group on the node in DIR: a TAXII collection whose alias
and title are NAME. Prints the collection's id on standard output.

Flags:
  --dir DIR                 node directory (default: $PUENTE_DIR)
  --name NAME               group name: a-z, 0-9 and '-', like precursor-chemicals
  --members CODES           member parties, comma-separated, like MEX,USA;
                            your own party is always a member
  --default-marking LEVEL   TLP level of objects shared without markings:
                            clear, green, amber (default), amber+strict or red
  --agencies NAMES          agencies whose users may add objects, comma-
                            separated (default: users of every agency)
  --description TEXT        what the group is for

Examples:
  puente group create --dir ./mex --name fentanyl --members MEX,USA
  ID=$(puente group create --dir ./mex --name money-laundering --members USA \
      --default-marking green --description "Financial flows of criminal organizations")
`

const groupListUsage = `Usage:
  puente group list --dir DIR

List the working groups of the node in DIR, and its internal collection.

Flags:
  --dir DIR   node directory (default: $PUENTE_DIR)

Example:
  puente group list --dir ./mex
`

func groupCommand() command {
	return command{name: "group", summary: "create and list working groups", usage: groupUsage,
		run: subcommands("group", groupUsage, map[string]func(context.Context, *env, []string) error{
			"create":        runGroupCreate,
			"list":          runGroupList,
			"add-member":    func(ctx context.Context, e *env, args []string) error { return runGroupMember(ctx, e, args, true) },
			"remove-member": func(ctx context.Context, e *env, args []string) error { return runGroupMember(ctx, e, args, false) },
			"archive":       func(ctx context.Context, e *env, args []string) error { return runGroupArchive(ctx, e, args, true) },
			"reopen":        func(ctx context.Context, e *env, args []string) error { return runGroupArchive(ctx, e, args, false) },
		})}
}

func runGroupCreate(ctx context.Context, e *env, args []string) (err error) {
	const cmd = "group create"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	name := fs.String("name", "", "")
	description := fs.String("description", "", "")
	members := fs.String("members", "", "")
	defMarking := fs.String("default-marking", "", "")
	agencies := fs.String("agencies", "", "")
	if help, err := parseCommand(e, fs, args, cmd, groupCreateUsage); help || err != nil {
		return err
	}
	if *name == "" {
		return usageError(cmd, "missing --name: the group's name")
	}
	if err := node.CheckGroupName(*name); err != nil {
		return usageError(cmd, "%v", err)
	}
	var memberList []string
	if *members != "" {
		memberList = strings.Split(*members, ",")
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		var agencyList []string
		if *agencies != "" {
			agencyList = strings.Split(*agencies, ",")
		}
		c, err := node.CreateGroup(ctx, st, cfg.Party, node.Group{Name: *name, Description: *description,
			Members: memberList, DefaultMarking: *defMarking, Agencies: agencyList})
		if errors.Is(err, store.ErrExists) {
			return withHint(fmt.Errorf("a group or collection named %s already exists", *name),
				fmt.Sprintf("see the groups with 'puente group list --dir %s'", quote(dir)))
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, c.ID)
		fmt.Fprintf(e.stderr, "puente: created group %s with members %s\n", c.Alias, strings.Join(c.Members, ", "))
		return nil
	})
}

func runGroupList(ctx context.Context, e *env, args []string) (err error) {
	const cmd = "group list"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	if help, err := parseCommand(e, fs, args, cmd, groupListUsage); help || err != nil {
		return err
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		cs, err := st.Collections(ctx)
		if err != nil {
			return fmt.Errorf("list groups: %w", err)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tID\tKIND\tMEMBERS\tCREATED\tTITLE")
		for _, c := range cs {
			kind := "group"
			switch {
			case c.Internal:
				kind = "internal"
			case c.Archived:
				kind = "archived"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Alias, c.ID, kind, strings.Join(c.Members, ","), formatTime(c.Created), c.Title)
		}
		return tw.Flush()
	})
}

const groupMemberUsage = `Usage:
  puente group add-member --dir DIR --name NAME --party CODE
  puente group remove-member --dir DIR --name NAME --party CODE

Add a member party to a working group of the node in DIR, or remove one.
From the next request on, a party sees what the group releases to its
members only while it is a member. Your own party cannot be removed.

Flags:
  --dir DIR      node directory (default: $PUENTE_DIR)
  --name NAME    the group
  --party CODE   the party, like CAN

Examples:
  puente group add-member --dir ./mex --name fentanyl --party CAN
  puente group remove-member --dir ./mex --name fentanyl --party CAN
`

func runGroupMember(ctx context.Context, e *env, args []string, add bool) (err error) {
	cmd := "group remove-member"
	if add {
		cmd = "group add-member"
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	name := fs.String("name", "", "")
	party := fs.String("party", "", "")
	if help, err := parseCommand(e, fs, args, cmd, groupMemberUsage); help || err != nil {
		return err
	}
	if *name == "" || *party == "" {
		return usageError(cmd, "missing --name or --party: the group and the party")
	}
	if err := node.CheckParty(*party); err != nil {
		return usageError(cmd, "%v", err)
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		c, err := findGroup(ctx, st, *name, dir)
		if err != nil {
			return err
		}
		if c.Internal {
			return fmt.Errorf("the party-internal collection has no other members")
		}
		members := slices.DeleteFunc(slices.Clone(c.Members), func(m string) bool { return m == *party })
		switch {
		case add:
			members = append(members, *party)
		case *party == cfg.Party:
			return fmt.Errorf("your own party %s cannot be removed from a group", cfg.Party)
		}
		if err := st.SetMembers(ctx, c.ID, members); err != nil {
			return fmt.Errorf("change members of %s: %w", *name, err)
		}
		slices.Sort(members)
		fmt.Fprintf(e.stdout, "Group %s: members %s.\n", c.Alias, strings.Join(members, ", "))
		return nil
	})
}

const groupArchiveUsage = `Usage:
  puente group archive --dir DIR --name NAME
  puente group reopen --dir DIR --name NAME

Archive a working group of the node in DIR: it keeps its content, which
members can still read, but nobody can add or delete objects in it. Reopen
makes it writable again.

Flags:
  --dir DIR     node directory (default: $PUENTE_DIR)
  --name NAME   the group

Example:
  puente group archive --dir ./mex --name fentanyl
`

func runGroupArchive(ctx context.Context, e *env, args []string, archive bool) (err error) {
	cmd := "group reopen"
	if archive {
		cmd = "group archive"
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	name := fs.String("name", "", "")
	if help, err := parseCommand(e, fs, args, cmd, groupArchiveUsage); help || err != nil {
		return err
	}
	if *name == "" {
		return usageError(cmd, "missing --name: the group")
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		c, err := findGroup(ctx, st, *name, dir)
		if err != nil {
			return err
		}
		if c.Internal {
			return fmt.Errorf("the party-internal collection cannot be archived")
		}
		if err := st.SetArchived(ctx, c.ID, archive); err != nil {
			return fmt.Errorf("%s %s: %w", cmd, *name, err)
		}
		state := "open"
		if archive {
			state = "archived: read-only"
		}
		fmt.Fprintf(e.stdout, "Group %s is %s.\n", c.Alias, state)
		return nil
	})
}

// findGroup returns the collection of the group name on the node in dir,
// with a hint when there is none.
func findGroup(ctx context.Context, st store.Store, name, dir string) (store.Collection, error) {
	c, err := st.Collection(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return c, withHint(fmt.Errorf("no group %s", name), fmt.Sprintf("see the groups with 'puente group list --dir %s'", quote(dir)))
	}
	if err != nil {
		return c, fmt.Errorf("look up group %s: %w", name, err)
	}
	return c, nil
}
