package main

import "github.com/spf13/pflag"

// addOSTemplateFlag registers --ostemplate/-t: the template a reinstall (or
// its plan) uses instead of the config's OSTEMPLATE.
func addOSTemplateFlag(f *pflag.FlagSet, name *string) {
	f.StringVarP(name, "ostemplate", "t", "",
		"use OS template `NAME` instead of the config's OSTEMPLATE, and record it there once the reinstall succeeds")
}

// addNoBackupFlag registers --no-backup, prlctl's name for --skipbackup,
// bound to the same value.
func addNoBackupFlag(f *pflag.FlagSet, skipBackup *bool) {
	f.BoolVar(skipBackup, "no-backup", false, "the same as --skipbackup (prlctl's name)")
}
