variable "dir" {
  type = strng # ERROR: 2:10 Invalid type specification
}

pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
}
