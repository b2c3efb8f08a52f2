// Package ansiblemodule is the reinstall_ct Ansible module: it reads the
// module's JSON args file, runs the installed reinstall with
// --output=result (plan in check mode) and returns one JSON result.
package ansiblemodule
