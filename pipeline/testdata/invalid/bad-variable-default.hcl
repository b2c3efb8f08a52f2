variable "timeout_minutes" {
  type    = number
  default = "ten" # ERROR: 3:13 Invalid default value for variable
}

pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
}
