"""Sign-in with Google and GitHub: provider clients that speak each provider's OAuth protocol and
return one normalized profile, and the account rules for signing in, linking and unlinking."""

from domain.oauth.github import GitHubOAuth
from domain.oauth.google import GoogleOAuth
from domain.oauth.profile import ProviderProfile
from domain.oauth.provider import OAuthProvider
from domain.oauth.social_accounts import SocialAccounts

__all__ = ["GitHubOAuth", "GoogleOAuth", "OAuthProvider", "ProviderProfile", "SocialAccounts"]
