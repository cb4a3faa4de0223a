package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes lists Switchboard's whole HTTP surface. Each route names its guard: public, auth (any
// signed-in agent, CSRF-checked for cookie writes) or admin.
func (s *Server) routes() {
	e := s.echo
	auth := s.requireAuth
	admin := func(h echo.HandlerFunc) echo.HandlerFunc { return s.requireAuth(requireAdmin(h)) }

	// Operations (public).
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)
	e.GET("/metrics", s.handleMetrics())

	// Meta's webhooks (public; signed with the channel's app secret).
	e.GET("/webhooks/whatsapp/:channel_id", s.handleWebhookVerify)
	e.POST("/webhooks/whatsapp/:channel_id", s.handleWebhook)

	api := e.Group("/api/v1", middleware.BodyLimit(maxAPIBody))
	// Sending a message may carry an attachment: a larger limit for that one route.
	upload := e.Group("/api/v1", middleware.BodyLimit(maxUploadBody))

	// Sign-in (public) and the signed-in agent.
	api.POST("/auth/login", s.handleLogin)
	api.POST("/auth/logout", s.handleLogout, auth)
	api.GET("/me", s.handleMe, auth)
	api.PATCH("/me", s.handleUpdateMe, auth)

	// Agents and teams: everyone sees colleagues (to transfer a conversation); admins change them.
	api.GET("/agents", s.handleListAgents, auth)
	api.POST("/agents", s.handleCreateAgent, admin)
	api.GET("/agents/:id", s.handleGetAgent, auth)
	api.PATCH("/agents/:id", s.handleUpdateAgent, admin)
	api.DELETE("/agents/:id", s.handleDeleteAgent, admin)
	api.GET("/teams", s.handleListTeams, auth)
	api.POST("/teams", s.handleCreateTeam, admin)
	api.GET("/teams/:id", s.handleGetTeam, auth)
	api.PATCH("/teams/:id", s.handleUpdateTeam, admin)
	api.DELETE("/teams/:id", s.handleDeleteTeam, admin)

	// WhatsApp channels: admins connect and configure them; agents see the channels they belong to.
	api.GET("/channels", s.handleListChannels, auth)
	api.POST("/channels", s.handleCreateChannel, admin)
	api.GET("/channels/:id", s.handleGetChannel, auth)
	api.PATCH("/channels/:id", s.handleUpdateChannel, admin)
	api.DELETE("/channels/:id", s.handleDeleteChannel, admin)
	api.GET("/channels/:id/settings", s.handleGetSettings, auth)
	api.PUT("/channels/:id/settings", s.handlePutSettings, admin)
	api.GET("/channels/:id/business-hours", s.handleGetBusinessHours, auth)
	api.GET("/channels/:id/events", s.handleListChannelEvents, admin)
	api.GET("/channels/:id/members", s.handleListMembers, auth)
	api.POST("/channels/:id/members", s.handlePutMember, admin)
	api.DELETE("/channels/:id/members/:agent_id", s.handleRemoveMember, admin)

	// Assignment: the channel's mode and AI agent, and its ordered routing rules (admin).
	api.PUT("/channels/:id/assignment", s.handlePutAssignment, admin)
	api.GET("/channels/:id/routing-rules", s.handleListRoutingRules, admin)
	api.POST("/channels/:id/routing-rules", s.handleCreateRoutingRule, admin)
	api.PUT("/channels/:id/routing-rules/order", s.handleReorderRoutingRules, admin)
	api.PATCH("/channels/:id/routing-rules/:rule_id", s.handleUpdateRoutingRule, admin)
	api.DELETE("/channels/:id/routing-rules/:rule_id", s.handleDeleteRoutingRule, admin)

	// AI agents (admin): they answer customers through an OpenAI-compatible API until they hand off.
	api.GET("/ai-agents", s.handleListAIAgents, admin)
	api.POST("/ai-agents", s.handleCreateAIAgent, admin)
	api.GET("/ai-agents/:id", s.handleGetAIAgent, admin)
	api.PATCH("/ai-agents/:id", s.handleUpdateAIAgent, admin)
	api.DELETE("/ai-agents/:id", s.handleDeleteAIAgent, admin)

	// Conversations and their messages, limited to the agent's channels.
	api.GET("/conversations", s.handleListConversations, auth)
	api.GET("/conversations/:id", s.handleGetConversation, auth)
	api.GET("/conversations/:id/messages", s.handleListMessages, auth)
	upload.POST("/conversations/:id/messages", s.handleSendMessage, auth)
	api.POST("/conversations/:id/messages/:message_id/retry", s.handleRetryMessage, auth)
	api.GET("/messages/:id/media", s.handleMessageMedia, auth)
	api.POST("/conversations/:id/assign", s.handleAssignConversation, auth)
	api.POST("/conversations/:id/resolve", s.handleResolveConversation, auth)
	api.POST("/conversations/:id/reopen", s.handleReopenConversation, auth)
	api.POST("/conversations/:id/read", s.handleReadConversation, auth)

	// Reports: admins see every channel, agents the channels they belong to.
	api.GET("/reports/csat", s.handleCSATReport, auth)
	api.GET("/reports/overview", s.handleOverviewReport, auth)

	// The agent workspace: live events and requests over a websocket (a cookie session must come from
	// the public URL).
	api.GET("/ws", s.hub.serveWS(s), auth)

	// Message templates: the cache of each channel's approved templates, synced from Meta.
	api.GET("/templates", s.handleListTemplates, auth)
	api.POST("/channels/:id/templates/sync", s.handleSyncTemplates, admin)

	// Webhooks that were signed but could not be understood (admin).
	api.GET("/dead-letters", s.handleListDeadLetters, admin)
	api.POST("/dead-letters/:id/retry", s.handleReplayDeadLetter, admin)

	// API tokens for integrations (admin).
	api.GET("/tokens", s.handleListTokens, admin)
	api.POST("/tokens", s.handleCreateToken, admin)
	api.DELETE("/tokens/:id", s.handleDeleteToken, admin)

	// Background jobs: inspect and retry dead ones (admin).
	api.GET("/jobs", s.handleListJobs, admin)
	api.POST("/jobs/:id/retry", s.handleRetryJob, admin)

	// The sandbox: a fake Graph API and a customer phone, for trying Switchboard without Meta.
	if s.sandbox != nil {
		e.Any(SandboxGraphPath+"/*", echo.WrapHandler(http.StripPrefix(SandboxGraphPath, s.sandbox)))
		api.POST("/sandbox/channels", s.handleCreateSandboxChannel, admin)
		api.POST("/sandbox/channels/:id/messages", s.handleSandboxCustomerMessage, auth)
		api.GET("/sandbox/channels/:id/messages", s.handleSandboxTranscript, auth)
	}

	// Unknown API paths are 404 JSON, never the app.
	api.Any("/*", func(c echo.Context) error { return echo.ErrNotFound })

	// The browser app for everything else.
	if s.web != nil {
		e.GET("/*", echo.WrapHandler(s.web))
		e.HEAD("/*", echo.WrapHandler(s.web))
	}
}
