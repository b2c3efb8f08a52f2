package credentials

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/reinstall-dev/reinstall/internal/oldarea"
	"github.com/reinstall-dev/reinstall/internal/safefs"
	"github.com/reinstall-dev/reinstall/internal/version"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Name is the plugin's name in pipelines (plugin = "credentials").
const Name = "credentials"

// Plugin returns the credentials plugin.
func Plugin() *sdk.Plugin {
	return &sdk.Plugin{Name: Name, Version: version.Version, Stages: map[string]sdk.Stage{sdk.KindConfigure: stage{}}}
}

type stage struct{}

// outputs are what the stage returns.
var outputs = []sdk.Output{
	{Name: "changed", Type: "string", Description: "the files merged, comma-separated"},
	{Name: "added", Type: "number", Description: "accounts of the old container added to the new one"},
}

func (stage) Schema() sdk.Schema                                   { return sdk.Schema{Outputs: outputs} }
func (stage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }

// Run merges each database of the old area into the new one. It changes
// only the new area, which a rollback discards, so it needs no Rollback.
// --resetpwdb skips it even where the pipeline's when does not.
func (stage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	rc := req.Context
	if rc.Options.ResetPwDB {
		req.UI.Log("info", "--resetpwdb: the template's passwd, shadow and group are kept")
		return &sdk.Result{Outputs: map[string]string{"changed": "", "added": "0"}}, nil
	}
	old, err := oldarea.Find(rc)
	if err != nil {
		return nil, err
	}
	var changed []string
	added := 0
	idMismatch := map[string]map[string]bool{} // database -> names kept for a differing id
	addedTo := map[string][]string{}           // database -> names added from the old one
	for _, db := range Databases {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rep, err := mergeFile(db, old.Path, rc.Private, idMismatch[db.IDsFrom], addedTo[db.IDsFrom], req.UI)
		if err != nil {
			return nil, err
		}
		addedTo[db.Name] = rep.Added
		if len(rep.IDMismatch) > 0 {
			idMismatch[db.Name] = map[string]bool{}
			for _, name := range rep.IDMismatch {
				idMismatch[db.Name][name] = true
			}
		}
		if rep.Changed() {
			changed = append(changed, db.Name)
			if db.Name == Passwd.Name {
				added = len(rep.Added)
			}
		}
	}
	return &sdk.Result{Outputs: map[string]string{"changed": strings.Join(changed, ","), "added": strconv.Itoa(added)}}, nil
}

// mergeFile merges /etc/<db> of the old area into the new area's. A file
// either side lacks, or that is not a regular file reached without a
// symlink, is skipped with a message: the old area is the old container's,
// untrusted, and never read through a link. Only a failed write fails.
// keepNew are the names whose template line stays (see Database.Merge);
// added are those the merge of db.IDsFrom added from the old container.
// Where the passwords of shadow (or gshadow) cannot be kept, because one
// side has no such file, a warning names the accounts.
func mergeFile(db Database, oldArea, newArea string, keepNew map[string]bool, added []string, ui sdk.UI) (Report, error) {
	rel := "etc/" + db.Name
	path := "/" + rel
	oldData, _, err := safefs.ReadFileBeneath(oldArea, rel)
	switch {
	case errors.Is(err, os.ErrNotExist) && db.Name == Shadow.Name:
		// The old container lost its shadow file to an earlier reinstall
		// (from a template without one): its shadowed accounts had no
		// password there, and have none here.
		if shadowed := shadowedIn(oldArea, db.IDsFrom, added); len(shadowed) > 0 {
			ui.Log("warn", fmt.Sprintf("%s: the old container has none, though its /etc/%s says the password of %s %s is there: %s no password to keep (set it again in the new container)",
				path, db.IDsFrom, pluralNoun(len(shadowed), db.Entry), shownList(shadowed), itThey(len(shadowed))))
			return Report{}, nil
		}
		ui.Log("info", fmt.Sprintf("%s: the old container has none; nothing to merge", path))
		return Report{}, nil
	case errors.Is(err, os.ErrNotExist):
		ui.Log("info", fmt.Sprintf("%s: the old container has none; nothing to merge", path))
		return Report{}, nil
	case err != nil:
		ui.Log("warn", fmt.Sprintf("%s of the old container skipped: %v", path, err))
		return Report{}, nil
	}
	newData, mode, err := safefs.ReadFileBeneath(newArea, rel)
	switch {
	case errors.Is(err, os.ErrNotExist) && db.IDsFrom != "":
		// A template without shadow (busybox) after one with it (Debian):
		// the old passwords have nowhere to go.
		if lost := db.withPassword(oldData); len(lost) > 0 {
			ui.Log("warn", fmt.Sprintf("%s: the new container has none, so the password of the old container's %s %s cannot be kept (set it again in the new container)",
				path, pluralNoun(len(lost), db.Entry), shownList(lost)))
			return Report{}, nil
		}
		ui.Log("info", fmt.Sprintf("%s: the new container has none; nothing to merge into", path))
		return Report{}, nil
	case errors.Is(err, os.ErrNotExist):
		ui.Log("info", fmt.Sprintf("%s: the new container has none; nothing to merge into", path))
		return Report{}, nil
	case err != nil:
		ui.Log("warn", fmt.Sprintf("%s of the new container skipped: %v", path, err))
		return Report{}, nil
	}
	merged, rep := db.Merge(newData, oldData, keepNew)
	for _, w := range rep.Warnings {
		ui.Log("warn", path+": "+w)
	}
	if !rep.Changed() {
		ui.Log("info", path+": nothing to change")
		return rep, nil
	}
	if err := safefs.WriteFileBeneath(newArea, rel, merged, mode, false); err != nil {
		return rep, fmt.Errorf("write the merged %s: %w", path, err)
	}
	ui.Log("info", fmt.Sprintf("%s: %s", path, summary(db, rep)))
	return rep, nil
}

// summary is a report in one line: "2 users added (alice, bob), 1 updated (root)".
func summary(db Database, rep Report) string {
	var parts []string
	if n := len(rep.Added); n > 0 {
		parts = append(parts, fmt.Sprintf("%s added (%s)", plural(n, db.Entry), shownList(rep.Added)))
	}
	if n := len(rep.Updated); n > 0 {
		parts = append(parts, fmt.Sprintf("%s updated from the old container (%s)", plural(n, db.Entry), shownList(rep.Updated)))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func shownList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = shown(n)
	}
	return strings.Join(out, ", ")
}

// pluralNoun is noun for one, nouns for more: "user", "users".
func pluralNoun(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

func itThey(n int) string {
	if n == 1 {
		return "it has"
	}
	return "they have"
}

// shadowedIn lists the names of added whose password field in the old
// area's /etc/<db> (passwd or group) is "x", which says "in the shadow
// file". (The template's own accounts keep the template's lines.)
func shadowedIn(oldArea, db string, added []string) []string {
	data, _, err := safefs.ReadFileBeneath(oldArea, "etc/"+db)
	if err != nil {
		return nil
	}
	var names []string
	for _, l := range splitLines(data) {
		f := strings.Split(l, ":")
		if len(f) >= 2 && f[1] == "x" && slices.Contains(added, f[0]) && !slices.Contains(names, f[0]) {
			names = append(names, f[0])
		}
	}
	return names
}
