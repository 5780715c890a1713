package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/federation/credential"
)

// wireBadges makes the instance's credential verifier: keys and status
// lists resolve locally or from their origin through the signed client.
func (in *instance) wireBadges() error {
	canon, err := credential.NewCanonicalizer()
	if err != nil {
		return fmt.Errorf("credential contexts: %w", err)
	}
	keys := &federation.CredentialKeys{URLs: in.urls, Keys: in.keys, Resolver: in.resolver, LocalStatusFunc: in.localStatusList}
	in.badges = &credential.Verifier{Canon: canon, Keys: keys, Status: keys, Lists: credential.NewStatusListCache()}
	return nil
}

// localStatusList renders a local course's status list for the verifier.
func (in *instance) localStatusList(ctx context.Context, url string) ([]byte, bool, error) {
	rest, ok := strings.CutSuffix(url, "/status/revocation")
	if !ok {
		return nil, false, nil
	}
	slug, ok := in.urls.CourseSlug(rest)
	if !ok {
		return nil, false, nil
	}
	c, err := in.courses.CourseBySlug(ctx, slug)
	if errors.Is(err, courses.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	body, err := in.actions.StatusList(ctx, c)
	return body, err == nil, err
}
