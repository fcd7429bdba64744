package service

import (
	"slices"

	"github.com/accountd/accountd"
)

// orgSummaryNames are the summary fields the reference's org schema lists.
// As for GET /me, names accountd does not count are accepted and left out;
// any other name is a 400.
var orgSummaryNames = []string{
	"apiTokenCount", "appCount", "certificateCount", "certificateAuthorityCount", "credentialCount", "dashCount",
	"dataTableCount", "deviceCount", "deviceRecipeCount", "eventCount", "experienceDomainCount",
	"experienceEndpointCount", "experienceGroupCount", "experienceSlugCount", "experienceUserCount",
	"experienceVersionCount", "experienceViewCount", "fileCount", "flowCount", "integrationCount", "keyCount",
	"memberCount", "notebookCount", "notebookStats", "payloadCount", "pendingInviteCount", "resourceJobCount",
	"storageStats", "webhookCount",
}

// OrgSummaryFields parses the summaryInclude or summaryExclude of an
// organization action as SummaryFields does GET /me's.
func OrgSummaryFields(param, value string) ([]string, error) {
	return summaryFieldsOf(orgSummaryNames, param, value)
}

// OrgSummaryCounts is the summary of an organization as the query shapes
// it: the counts accountd keeps, those of include only when it is given,
// less those of exclude.
func OrgSummaryCounts(sum accountd.OrgSummary, include, exclude []string) map[string]int {
	out := map[string]int{}
	for name, n := range map[string]int{
		"appCount": sum.Apps, "dashCount": sum.Dashboards, "deviceCount": sum.Devices, "flowCount": sum.Flows,
		"memberCount": sum.Members, "pendingInviteCount": sum.PendingInvites,
	} {
		if slices.Contains(exclude, name) || len(include) > 0 && !slices.Contains(include, name) {
			continue
		}
		out[name] = n
	}
	return out
}
