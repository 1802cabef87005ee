//! An in-memory implementation of the messenger's services: business logic only — transport,
//! validation and error mapping come from the generated code and the runtime.

use crate::api::messenger::auth::v1 as auth;
use crate::api::messenger::chat::v1 as chat;
use crate::api::messenger::common::v1 as common;
use crate::api::messenger::user::v1 as user;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use svcc_runtime::Uuid;
use svcc_runtime::wire::{Duration, Timestamp};
use svcc_runtime::{Context, Error};

use auth::auth_service::{LoginError, LoginResponse, RefreshError};
use auth::session_service::{LogoutError, WhoamiError, WhoamiResponse};
use chat::chat_service as cs;
use user::user_service as us;

/// Everything the services keep, shared between them.
#[derive(Debug, Default)]
pub struct Store {
    users: Mutex<Vec<user::User>>,
    /// E-mail → password (plain text: this is an example, not a password store).
    passwords: Mutex<HashMap<String, String>>,
    /// Access and refresh tokens → user id.
    access: Mutex<HashMap<String, Uuid>>,
    refresh: Mutex<HashMap<String, Uuid>>,
    chats: Mutex<Vec<chat::Chat>>,
    members: Mutex<HashMap<Uuid, Vec<chat::Member>>>,
    messages: Mutex<Vec<chat::Message>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Store {
    pub fn new() -> Arc<Store> {
        Arc::new(Store::default())
    }

    /// The user an access token (from `Authorization: Bearer …`) belongs to.
    fn caller(&self, ctx: &Context) -> Option<Uuid> {
        let token = ctx.header("authorization")?.strip_prefix("Bearer ")?;
        lock(&self.access).get(token).copied()
    }
}

fn unauthenticated() -> common::Unauthenticated {
    common::Unauthenticated {}
}

/// The user service.
#[derive(Debug, Clone)]
pub struct Users(pub Arc<Store>);

impl user::UserService for Users {
    async fn create(
        &self,
        _ctx: Context,
        display_name: String,
        email: common::Email,
        handle: common::Handle,
        _invite: Option<String>,
    ) -> Result<us::CreateResponse, us::CreateError> {
        let mut users = lock(&self.0.users);
        let wanted = email.0.to_lowercase();
        if users.iter().any(|u| u.email.0.to_lowercase() == wanted) {
            return Err(user::EmailTaken { email }.into());
        }
        let u = user::User {
            id: Uuid::new_v4(),
            email: email.clone(),
            handle,
            display_name: Some(display_name),
            role: user::Role::Member,
            tags: Vec::new(),
            settings: BTreeMap::new(),
            avatar: None,
            created_at: Timestamp::now(),
            last_seen_at: None,
        };
        users.push(u.clone());
        lock(&self.0.passwords).insert(wanted, "password123".to_string());
        Ok(us::CreateResponse { user: u })
    }

    async fn get(&self, _ctx: Context, id: common::UserId) -> Result<user::User, us::GetError> {
        lock(&self.0.users)
            .iter()
            .find(|u| u.id == id)
            .cloned()
            .ok_or_else(|| user::UserNotFound { user_id: id }.into())
    }

    async fn list(
        &self,
        _ctx: Context,
        query: Option<String>,
        cursor: Option<common::Cursor>,
        limit: i32,
    ) -> Result<us::ListResponse, us::ListError> {
        let users = lock(&self.0.users);
        let start: usize = match &cursor {
            Some(c) => {
                c.0.parse()
                    .map_err(|_| Error::invalid_argument("unknown cursor"))?
            }
            None => 0,
        };
        let q = query.map(|q| q.to_lowercase());
        let matching: Vec<&user::User> = users
            .iter()
            .filter(|u| {
                q.as_ref().is_none_or(|q| {
                    u.handle.0.contains(q.as_str())
                        || u.display_name
                            .as_ref()
                            .is_some_and(|d| d.to_lowercase().contains(q.as_str()))
                })
            })
            .collect();
        let limit = usize::try_from(limit).unwrap_or(20);
        let page: Vec<user::User> = matching
            .iter()
            .skip(start)
            .take(limit)
            .map(|u| (*u).clone())
            .collect();
        let next = start + page.len();
        let has_more = next < matching.len();
        Ok(us::ListResponse {
            users: page,
            page: common::PageInfo {
                next_cursor: has_more.then(|| common::Cursor(next.to_string())),
                has_more,
            },
        })
    }

    async fn update(
        &self,
        _ctx: Context,
        id: common::UserId,
        display_name: Option<String>,
        tags: Option<Vec<String>>,
    ) -> Result<user::User, us::UpdateError> {
        let mut users = lock(&self.0.users);
        let u = users
            .iter_mut()
            .find(|u| u.id == id)
            .ok_or(user::UserNotFound { user_id: id })?;
        if let Some(d) = display_name {
            u.display_name = Some(d);
        }
        if let Some(t) = tags {
            u.tags = t;
        }
        Ok(u.clone())
    }

    async fn delete(&self, _ctx: Context, id: common::UserId) -> Result<(), us::DeleteError> {
        let mut users = lock(&self.0.users);
        let before = users.len();
        users.retain(|u| u.id != id);
        if users.len() == before {
            return Err(user::UserNotFound { user_id: id }.into());
        }
        Ok(())
    }

    async fn archive(
        &self,
        ctx: Context,
        id: common::UserId,
        _reason: Option<String>,
    ) -> Result<(), us::ArchiveError> {
        #[allow(deprecated)] // archiving removes the user from listings, like delete
        self.delete(ctx, id).await.map_err(|e| match e {
            us::DeleteError::UserNotFound(n) => us::ArchiveError::UserNotFound(n),
            us::DeleteError::PermissionDenied(p) => us::ArchiveError::PermissionDenied(p),
            us::DeleteError::Other(o) => us::ArchiveError::Other(o),
        })
    }
}

/// Sign-in and token refresh.
#[derive(Debug, Clone)]
pub struct Auth(pub Arc<Store>);

fn token_pair(store: &Store, user_id: Uuid) -> auth::TokenPair {
    let access = Uuid::new_v4().simple().to_string();
    let refresh = Uuid::new_v4().simple().to_string();
    lock(&store.access).insert(access.clone(), user_id);
    lock(&store.refresh).insert(refresh.clone(), user_id);
    auth::TokenPair {
        access_token: access,
        refresh_token: refresh,
        expires_in: Duration::from_secs(900),
        token_type: "Bearer".to_string(),
    }
}

impl auth::AuthService for Auth {
    async fn login(
        &self,
        _ctx: Context,
        email: common::Email,
        password: String,
    ) -> Result<LoginResponse, LoginError> {
        let key = email.0.to_lowercase();
        let ok = lock(&self.0.passwords)
            .get(&key)
            .is_some_and(|p| *p == password);
        let user_id = lock(&self.0.users)
            .iter()
            .find(|u| u.email.0.to_lowercase() == key)
            .map(|u| u.id);
        match (ok, user_id) {
            (true, Some(id)) => {
                let tokens = token_pair(&self.0, id);
                Ok(LoginResponse {
                    session: tokens.access_token.clone(),
                    tokens,
                    user_id: id,
                })
            }
            _ => Err(auth::InvalidCredentials {}.into()),
        }
    }

    async fn refresh(
        &self,
        _ctx: Context,
        refresh_token: String,
    ) -> Result<auth::TokenPair, RefreshError> {
        let user_id = lock(&self.0.refresh)
            .remove(&refresh_token)
            .ok_or(auth::InvalidToken {
                reason: "unknown or already used refresh token".to_string(),
            })?;
        Ok(token_pair(&self.0, user_id))
    }
}

/// The signed-in caller's session.
#[derive(Debug, Clone)]
pub struct Sessions(pub Arc<Store>);

impl auth::SessionService for Sessions {
    async fn logout(
        &self,
        ctx: Context,
        _session: Option<String>,
        refresh_token: Option<String>,
    ) -> Result<(), LogoutError> {
        let token = ctx
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::to_string)
            .ok_or_else(unauthenticated)?;
        lock(&self.0.access)
            .remove(&token)
            .ok_or_else(unauthenticated)?;
        if let Some(r) = refresh_token {
            lock(&self.0.refresh).remove(&r);
        }
        Ok(())
    }

    async fn whoami(
        &self,
        ctx: Context,
        _source: Option<String>,
    ) -> Result<WhoamiResponse, WhoamiError> {
        let user_id = self.0.caller(&ctx).ok_or_else(unauthenticated)?;
        Ok(WhoamiResponse {
            user_id,
            expires_at: Timestamp::now(),
        })
    }
}

/// Chats, members and messages.
#[derive(Debug, Clone)]
pub struct Chats(pub Arc<Store>);

impl Chats {
    fn member_of(&self, chat_id: Uuid, user: Uuid) -> bool {
        lock(&self.0.members)
            .get(&chat_id)
            .is_some_and(|ms| ms.iter().any(|m| m.user_id == user))
    }

    /// The caller, who must be a member of an existing chat.
    fn check(&self, ctx: &Context, chat_id: Uuid) -> Result<Uuid, Failure> {
        let caller = self.0.caller(ctx).ok_or(Failure::Unauthenticated)?;
        if !lock(&self.0.chats).iter().any(|c| c.id == chat_id) {
            return Err(Failure::NotFound);
        }
        if !self.member_of(chat_id, caller) {
            return Err(Failure::NotAMember);
        }
        Ok(caller)
    }
}

/// Why a chat operation was refused, before it is mapped to each method's error type.
enum Failure {
    Unauthenticated,
    NotFound,
    NotAMember,
}

macro_rules! refuse {
    ($ty:ident, $f:expr, $chat_id:expr) => {
        match $f {
            Failure::Unauthenticated => cs::$ty::Other(Error::unauthenticated("sign in first")),
            Failure::NotFound => cs::$ty::ChatNotFound(chat::ChatNotFound { chat_id: $chat_id }),
            Failure::NotAMember => cs::$ty::NotAMember(chat::NotAMember { chat_id: $chat_id }),
        }
    };
}

impl chat::ChatService for Chats {
    async fn create_chat(
        &self,
        ctx: Context,
        title: String,
        kind: chat::ChatKind,
        member_ids: Vec<common::UserId>,
    ) -> Result<chat::Chat, cs::CreateChatError> {
        let owner = self.0.caller(&ctx).ok_or_else(unauthenticated)?;
        let owned = lock(&self.0.chats)
            .iter()
            .filter(|c| c.owner_id == owner)
            .count();
        if owned >= 100 {
            return Err(chat::TooManyChats { limit: 100 }.into());
        }
        let mut ids = vec![owner];
        ids.extend(member_ids.into_iter().filter(|m| *m != owner));
        let c = chat::Chat {
            id: Uuid::new_v4(),
            title,
            kind,
            owner_id: owner,
            member_ids: ids.clone(),
            created_at: Timestamp::now(),
        };
        let members = ids
            .iter()
            .map(|id| chat::Member {
                user_id: *id,
                role: if *id == owner {
                    chat::MemberRole::Owner
                } else {
                    chat::MemberRole::Writer
                },
                joined_at: Timestamp::now(),
            })
            .collect();
        lock(&self.0.members).insert(c.id, members);
        lock(&self.0.chats).push(c.clone());
        Ok(c)
    }

    async fn get_chat(
        &self,
        ctx: Context,
        chat_id: common::ChatId,
    ) -> Result<chat::Chat, cs::GetChatError> {
        self.check(&ctx, chat_id)
            .map_err(|f| refuse!(GetChatError, f, chat_id))?;
        lock(&self.0.chats)
            .iter()
            .find(|c| c.id == chat_id)
            .cloned()
            .ok_or_else(|| chat::ChatNotFound { chat_id }.into())
    }

    async fn add_member(
        &self,
        ctx: Context,
        chat_id: common::ChatId,
        user_id: common::UserId,
        role: chat::MemberRole,
    ) -> Result<chat::Member, cs::AddMemberError> {
        self.check(&ctx, chat_id)
            .map_err(|f| refuse!(AddMemberError, f, chat_id))?;
        let m = chat::Member {
            user_id,
            role,
            joined_at: Timestamp::now(),
        };
        lock(&self.0.members)
            .entry(chat_id)
            .or_default()
            .push(m.clone());
        if let Some(c) = lock(&self.0.chats).iter_mut().find(|c| c.id == chat_id) {
            c.member_ids.push(user_id);
        }
        Ok(m)
    }

    async fn remove_member(
        &self,
        ctx: Context,
        chat_id: common::ChatId,
        user_id: common::UserId,
    ) -> Result<(), cs::RemoveMemberError> {
        self.check(&ctx, chat_id)
            .map_err(|f| refuse!(RemoveMemberError, f, chat_id))?;
        if let Some(ms) = lock(&self.0.members).get_mut(&chat_id) {
            ms.retain(|m| m.user_id != user_id);
        }
        if let Some(c) = lock(&self.0.chats).iter_mut().find(|c| c.id == chat_id) {
            c.member_ids.retain(|m| *m != user_id);
        }
        Ok(())
    }

    async fn send_message(
        &self,
        ctx: Context,
        chat_id: common::ChatId,
        content: chat::Content,
        _idempotency_key: Option<String>,
    ) -> Result<chat::Message, cs::SendMessageError> {
        let author = self
            .check(&ctx, chat_id)
            .map_err(|f| refuse!(SendMessageError, f, chat_id))?;
        let m = chat::Message {
            id: Uuid::new_v4(),
            chat_id,
            author_id: author,
            content,
            sent_at: Timestamp::now(),
            edited_at: None,
            attempts: 0,
            meta: None,
        };
        lock(&self.0.messages).push(m.clone());
        Ok(m)
    }

    async fn list_messages(
        &self,
        ctx: Context,
        chat_id: common::ChatId,
        cursor: Option<common::Cursor>,
        limit: i32,
    ) -> Result<cs::ListMessagesResponse, cs::ListMessagesError> {
        self.check(&ctx, chat_id)
            .map_err(|f| refuse!(ListMessagesError, f, chat_id))?;
        let start: usize = match &cursor {
            Some(c) => {
                c.0.parse()
                    .map_err(|_| Error::invalid_argument("unknown cursor"))?
            }
            None => 0,
        };
        let all: Vec<chat::Message> = lock(&self.0.messages)
            .iter()
            .rev()
            .filter(|m| m.chat_id == chat_id)
            .cloned()
            .collect();
        let limit = usize::try_from(limit).unwrap_or(50);
        let page: Vec<chat::Message> = all.iter().skip(start).take(limit).cloned().collect();
        let next = start + page.len();
        let has_more = next < all.len();
        Ok(cs::ListMessagesResponse {
            messages: page,
            page: common::PageInfo {
                next_cursor: has_more.then(|| common::Cursor(next.to_string())),
                has_more,
            },
        })
    }

    async fn edit_message(
        &self,
        ctx: Context,
        chat_id: common::ChatId,
        message_id: common::MessageId,
        content: chat::Content,
    ) -> Result<chat::Message, cs::EditMessageError> {
        self.check(&ctx, chat_id)
            .map_err(|f| refuse!(EditMessageError, f, chat_id))?;
        let mut all = lock(&self.0.messages);
        let m = all
            .iter_mut()
            .find(|m| m.id == message_id && m.chat_id == chat_id)
            .ok_or(chat::ChatNotFound { chat_id })?;
        m.content = content;
        m.edited_at = Some(Timestamp::now());
        Ok(m.clone())
    }

    async fn delete_message(
        &self,
        ctx: Context,
        chat_id: common::ChatId,
        message_id: common::MessageId,
    ) -> Result<(), cs::DeleteMessageError> {
        self.check(&ctx, chat_id)
            .map_err(|f| refuse!(DeleteMessageError, f, chat_id))?;
        lock(&self.0.messages).retain(|m| m.id != message_id);
        Ok(())
    }
}
