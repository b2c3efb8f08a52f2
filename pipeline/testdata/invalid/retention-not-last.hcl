pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "backup-retention" "retention" {}
  stage "start" "start" {} # ERROR: 5:9 Stage out of order
}
