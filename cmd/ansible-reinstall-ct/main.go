// Command reinstall_ct is the Ansible module that reinstalls a container:
// a static binary, for nodes without a usable Python. Ansible passes the
// path of its JSON args file; see internal/ansiblemodule and
// examples/ansible.
package main

import (
	"os"

	"github.com/reinstall-dev/reinstall/internal/ansiblemodule"
)

func main() {
	os.Exit(ansiblemodule.Main(os.Args, os.Stdout))
}
