variable "dir" {}
variable "dir" {} # ERROR: 2:10 Duplicate variable

pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
}
