variable "script_dir" {
  type    = string
  default = "/etc/vz/site"
}

pipeline "x" {
  stage "provision" "template" {}
  stage "reinstall-hook" "hook" {
    script = "${var.scrpt_dir}/reinstall.sh" # ERROR: 9:17 Reference to undeclared input variable
  }
  stage "swap" "swap" {}
}
