variable "hook" {
  default = "${ct.private}/hook" # ERROR: 2:16 Variables not allowed
}

pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
}
