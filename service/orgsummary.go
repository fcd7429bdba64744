package service

import (
	"context"
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
	return shapeSummary(map[string]int{
		"appCount": sum.Apps, "dashCount": sum.Dashboards, "deviceCount": sum.Devices, "flowCount": sum.Flows,
		"memberCount": sum.Members, "pendingInviteCount": sum.PendingInvites,
	}, include, exclude)
}

// shapeSummary keeps the counts of include (all when it is empty) less
// those of exclude.
func shapeSummary(counts map[string]int, include, exclude []string) map[string]int {
	for name := range counts {
		if slices.Contains(exclude, name) || len(include) > 0 && !slices.Contains(include, name) {
			delete(counts, name)
		}
	}
	return counts
}

// appSummaryNames are the summary fields the reference's application
// schema lists; as for GET /me, names accountd does not count are accepted
// and left out, any other name is a 400.
var appSummaryNames = []string{
	"apiTokenCount", "certificateAuthorityCount", "certificateCount", "credentialCount", "dashCount",
	"dataTableCount", "deviceCount", "deviceRecipeCount", "eventCount", "experienceDomainCount",
	"experienceEndpointCount", "experienceGroupCount", "experienceSlugCount", "experienceUserCount",
	"experienceVersionCount", "experienceViewCount", "fileCount", "flowCount", "integrationCount", "keyCount",
	"notebookCount", "notebookStats", "payloadCount", "resourceJobCount", "storageStats", "webhookCount",
}

// AppSummaryFields parses the summaryInclude or summaryExclude of an
// application action as SummaryFields does GET /me's.
func AppSummaryFields(param, value string) ([]string, error) {
	return summaryFieldsOf(appSummaryNames, param, value)
}

// AppSummaryCounts is the summary of an application as the query shapes
// it: its devices, flows and linked dashboards, those of include only when
// it is given, less those of exclude.
func AppSummaryCounts(sum accountd.AppSummary, include, exclude []string) map[string]int {
	return shapeSummary(map[string]int{"dashCount": sum.Dashboards, "deviceCount": sum.Devices, "flowCount": sum.Flows}, include, exclude)
}

// AppSummaries counts the summaries of applications the caller has read
// (through Application or Applications), by id.
func (s *Service) AppSummaries(ctx context.Context, apps []*accountd.Application) (map[string]accountd.AppSummary, error) {
	ids := make([]string, len(apps))
	for i, a := range apps {
		ids[i] = a.ID
	}
	return s.store.AppSummaries(ctx, ids)
}
