//! An in-memory implementation of the messenger's services: business logic only — transport,
//! validation and error mapping come from the generated code and the runtime.

use crate::api::messenger::auth::v1 as auth;
use crate::api::messenger::chat::v1 as chat;
use crate::api::messenger::common::v1 as common;
use crate::api::messenger::user::v1 as user;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use svcc_runtime::Uuid;
use svcc_runtime::auth::{Claims, Jwt, KeyError, Refusal, Revocations, TokenType};
use svcc_runtime::db::Db;
use svcc_runtime::wire::{Duration, Timestamp};
use svcc_runtime::{Context, Error, serde, serde_json};

/// The example's migrations (`migrations/`), compiled in.
const MIGRATIONS: &[(&str, &str)] = &[(
    "001_documents.sql",
    include_str!("../migrations/001_documents.sql"),
)];

use auth::auth_service::{LoginError, LoginResponse, RefreshError};
use auth::session_service::{LogoutError, WhoamiError, WhoamiResponse};
use chat::chat_service as cs;
use user::user_service as us;

/// Everything the services keep, shared between them.
#[derive(Debug)]
pub struct Store {
    /// Issues the tokens the server verifies (the same keys: hand it to `Server::jwt`).
    jwt: Arc<Jwt>,
    sessions: Arc<Sessions>,
    users: Mutex<Vec<user::User>>,
    /// E-mail → password (plain text: this is an example, not a password store).
    passwords: Mutex<HashMap<String, String>>,
    chats: Mutex<Vec<chat::Chat>>,
    members: Mutex<HashMap<Uuid, Vec<chat::Member>>>,
    messages: Mutex<Vec<chat::Message>>,
    /// Where the state is durable (`DATABASE_URL`): every change is written there first — in
    /// one transaction with the events it emits (the outbox) — then kept in memory.
    db: Option<Db>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sign-in sessions: each sign-in starts a family of tokens; every refresh token may be used
/// once, and using one twice revokes its whole family (refresh token rotation with reuse
/// detection, as the OAuth 2.0 Security BCP asks). Sign-out revokes the family too. The
/// server asks this list about every access token it verifies.
#[derive(Debug, Default)]
struct Sessions {
    /// Token id (access or refresh) → its family.
    family_of: Mutex<HashMap<String, Uuid>>,
    /// Refresh token ids already exchanged.
    used: Mutex<HashSet<String>>,
    revoked: Mutex<HashSet<Uuid>>,
}

impl Revocations for Sessions {
    fn is_revoked(&self, claims: &Claims) -> bool {
        match lock(&self.family_of).get(&claims.jti) {
            Some(family) => lock(&self.revoked).contains(family),
            // Issued by another process with the same keys: nothing known against it.
            None => false,
        }
    }
}

impl Store {
    /// Revokes the session `jti` belongs to (stored first, with a database).
    async fn revoke_family_of(&self, ctx: &Context, jti: &str) -> Result<(), Error> {
        let family = lock(&self.sessions.family_of).get(jti).copied();
        if let Some(family) = family {
            self.save(ctx, "revoked", &family.to_string(), &true)
                .await?;
            lock(&self.sessions.revoked).insert(family);
        }
        Ok(())
    }
}

impl Store {
    /// A store whose tokens are signed with a random key (tests, demos).
    pub fn new() -> Arc<Store> {
        match Jwt::random() {
            Ok(jwt) => Store::with_jwt(jwt),
            // 64 random bytes and a short id are always a valid key.
            Err(e) => unreachable!("{e}"),
        }
    }

    /// A store signing with the keys from `JWT_SECRET` (a random key, with a loud warning,
    /// when it is unset); an error when the secret is too short.
    pub fn from_env() -> Result<Arc<Store>, KeyError> {
        Ok(Store::with_jwt(Jwt::from_env_or_random()?))
    }

    pub fn with_jwt(jwt: Jwt) -> Arc<Store> {
        let sessions = Arc::new(Sessions::default());
        let jwt = jwt.revocations(sessions.clone());
        Arc::new(Store {
            jwt: Arc::new(jwt),
            sessions,
            users: Mutex::default(),
            passwords: Mutex::default(),
            chats: Mutex::default(),
            members: Mutex::default(),
            messages: Mutex::default(),
            db: None,
        })
    }

    /// A store kept in PostgreSQL: applies the migrations, then loads what the database
    /// holds.
    pub async fn open(jwt: Jwt, db: Db) -> Result<Arc<Store>, Error> {
        db.migrate(MIGRATIONS).await?;
        let sessions = Arc::new(Sessions::default());
        let jwt = jwt.revocations(sessions.clone());
        let mut store = Store {
            jwt: Arc::new(jwt),
            sessions,
            users: Mutex::default(),
            passwords: Mutex::default(),
            chats: Mutex::default(),
            members: Mutex::default(),
            messages: Mutex::default(),
            db: None,
        };
        let rows = db
            .query(
                &Context::new(),
                "SELECT kind, doc, id FROM documents ORDER BY seq",
                &[],
            )
            .await?;
        let bad = |kind: &str, e: serde_json::Error| {
            Error::internal(format!("a stored {kind} does not decode: {e}"))
        };
        for row in rows {
            let kind: String = row.get(0);
            let doc: serde_json::Value = row.get(1);
            match kind.as_str() {
                "user" => store
                    .users
                    .get_mut()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(serde_json::from_value(doc).map_err(|e| bad("user", e))?),
                "password" => {
                    let (email, password): (String, String) =
                        serde_json::from_value(doc).map_err(|e| bad("password", e))?;
                    lock(&store.passwords).insert(email, password);
                }
                "chat" => lock(&store.chats)
                    .push(serde_json::from_value(doc).map_err(|e| bad("chat", e))?),
                "members" => {
                    let (chat_id, members): (Uuid, Vec<chat::Member>) =
                        serde_json::from_value(doc).map_err(|e| bad("members", e))?;
                    lock(&store.members).insert(chat_id, members);
                }
                "message" => lock(&store.messages)
                    .push(serde_json::from_value(doc).map_err(|e| bad("message", e))?),
                "token" => {
                    let family: Uuid = serde_json::from_value(doc).map_err(|e| bad("token", e))?;
                    lock(&store.sessions.family_of).insert(row.get(2), family);
                }
                "used" => {
                    lock(&store.sessions.used).insert(row.get(2));
                }
                "revoked" => {
                    let id: String = row.get(2);
                    if let Ok(family) = id.parse() {
                        lock(&store.sessions.revoked).insert(family);
                    }
                }
                _ => {}
            }
        }
        store.db = Some(db);
        Ok(Arc::new(store))
    }

    /// The database, when the store has one.
    pub fn db(&self) -> Option<&Db> {
        self.db.as_ref()
    }

    /// Runs `f` in a transaction when the store has a database (its context carries it),
    /// directly otherwise.
    async fn write<T, E: From<Error>>(
        &self,
        ctx: &Context,
        f: impl AsyncFnOnce(Context) -> Result<T, E>,
    ) -> Result<T, E> {
        match &self.db {
            Some(db) => db.transaction(ctx, f).await,
            None => f(ctx.clone()).await,
        }
    }

    /// Stores `doc` as the `kind` record `id` (in `ctx`'s transaction); nothing without a
    /// database.
    async fn save<T: serde::Serialize>(
        &self,
        ctx: &Context,
        kind: &str,
        id: &str,
        doc: &T,
    ) -> Result<(), Error> {
        let Some(db) = &self.db else { return Ok(()) };
        let doc = serde_json::to_value(doc)
            .map_err(|e| Error::internal(format!("cannot encode a {kind}: {e}")))?;
        db.execute(
            ctx,
            "INSERT INTO documents (kind, id, doc) VALUES ($1, $2, $3)
             ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc",
            &[&kind, &id, &doc],
        )
        .await?;
        Ok(())
    }

    /// Removes the `kind` record `id`; nothing without a database.
    async fn forget(&self, ctx: &Context, kind: &str, id: &str) -> Result<(), Error> {
        let Some(db) = &self.db else { return Ok(()) };
        db.execute(
            ctx,
            "DELETE FROM documents WHERE kind = $1 AND id = $2",
            &[&kind, &id],
        )
        .await?;
        Ok(())
    }

    /// Stores a chat and its members.
    async fn save_chat(
        &self,
        ctx: &Context,
        c: &chat::Chat,
        members: &[chat::Member],
    ) -> Result<(), Error> {
        let id = c.id.to_string();
        self.save(ctx, "chat", &id, c).await?;
        self.save(ctx, "members", &id, &(c.id, members)).await
    }

    /// The keys the server verifies tokens with.
    pub fn jwt(&self) -> Arc<Jwt> {
        self.jwt.clone()
    }

    /// The signed-in caller: the subject of the access token the server verified.
    fn caller(&self, ctx: &Context) -> Option<Uuid> {
        ctx.subject().and_then(|s| s.parse().ok())
    }

    /// A new pair of tokens in `family` (stored, with a database, so a restart keeps the
    /// session).
    async fn issue(
        &self,
        ctx: &Context,
        user_id: Uuid,
        email: Option<&str>,
        family: Uuid,
    ) -> Result<auth::TokenPair, Error> {
        let pair = self
            .jwt
            .issue_pair(&user_id.to_string(), email)
            .map_err(|e| Error::internal(e.to_string()))?;
        let (access, refresh) = (&pair.access.claims.jti, &pair.refresh.claims.jti);
        self.write(ctx, async |tx| {
            self.save(&tx, "token", access, &family).await?;
            self.save(&tx, "token", refresh, &family).await
        })
        .await?;
        {
            let mut family_of = lock(&self.sessions.family_of);
            family_of.insert(access.clone(), family);
            family_of.insert(refresh.clone(), family);
        }
        Ok(auth::TokenPair {
            access_token: pair.access.token,
            refresh_token: pair.refresh.token,
            expires_in: Duration::from_secs(
                i64::try_from(self.jwt.access_lifetime().as_secs()).unwrap_or(i64::MAX),
            ),
            token_type: "Bearer".to_string(),
        })
    }
}

fn unauthenticated() -> common::Unauthenticated {
    common::Unauthenticated {}
}

/// The user service.
#[derive(Debug, Clone)]
pub struct Users(pub Arc<Store>);

impl Users {
    /// Removes a user and publishes `UserDeleted` (delete and archive), in one transaction
    /// when the store has a database.
    async fn remove(
        &self,
        ctx: &Context,
        emit: impl AsyncFnOnce(Context, user::UserDeleted) -> Result<(), Error>,
        id: common::UserId,
        reason: Option<String>,
    ) -> Result<(), RemoveError> {
        if !lock(&self.0.users).iter().any(|u| u.id == id) {
            return Err(RemoveError::NotFound(user::UserNotFound { user_id: id }));
        }
        self.0
            .write(ctx, async |tx| {
                self.0.forget(&tx, "user", &id.to_string()).await?;
                self.0.forget(&tx, "password", &id.to_string()).await?;
                let event = user::UserDeleted {
                    user_id: id,
                    deleted_at: Timestamp::now(),
                    reason,
                };
                emit(tx, event).await
            })
            .await
            .map_err(RemoveError::Other)?;
        let email = {
            let mut users = lock(&self.0.users);
            let email = users
                .iter()
                .find(|u| u.id == id)
                .map(|u| u.email.0.to_lowercase());
            users.retain(|u| u.id != id);
            email
        };
        if let Some(e) = email {
            lock(&self.0.passwords).remove(&e);
        }
        Ok(())
    }
}

/// Why a user could not be removed.
enum RemoveError {
    NotFound(user::UserNotFound),
    Other(Error),
}

impl user::UserService for Users {
    async fn create(
        &self,
        ctx: us::CreateContext,
        display_name: String,
        email: common::Email,
        handle: common::Handle,
        _invite: Option<String>,
    ) -> Result<us::CreateResponse, us::CreateError> {
        let wanted = email.0.to_lowercase();
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
        {
            // Checked and claimed at once, so two requests cannot both take an address.
            let mut users = lock(&self.0.users);
            if users.iter().any(|x| x.email.0.to_lowercase() == wanted) {
                return Err(user::EmailTaken { email }.into());
            }
            users.push(u.clone());
        }
        let password = "password123".to_string();
        // The user, the password and the event: committed together, or none of them.
        let written = self
            .0
            .write(&ctx, async |tx| {
                let id = u.id.to_string();
                self.0.save(&tx, "user", &id, &u).await?;
                self.0
                    .save(&tx, "password", &id, &(&wanted, &password))
                    .await?;
                // `emits UserCreated`: the contract lets this method publish exactly that event.
                ctx.with_context(tx)
                    .emit_user_created(&user::UserCreated {
                        user_id: u.id,
                        email: u.email.clone(),
                        handle: u.handle.clone(),
                        created_at: u.created_at,
                    })
                    .await
            })
            .await;
        if let Err(e) = written {
            lock(&self.0.users).retain(|x| x.id != u.id);
            // Another instance took the address first.
            if e.kind == svcc_runtime::Code::AlreadyExists {
                return Err(user::EmailTaken { email }.into());
            }
            return Err(e.into());
        }
        lock(&self.0.passwords).insert(wanted, password);
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
        ctx: Context,
        id: common::UserId,
        display_name: Option<String>,
        tags: Option<Vec<String>>,
    ) -> Result<user::User, us::UpdateError> {
        let mut u = lock(&self.0.users)
            .iter()
            .find(|u| u.id == id)
            .cloned()
            .ok_or(user::UserNotFound { user_id: id })?;
        if let Some(d) = display_name {
            u.display_name = Some(d);
        }
        if let Some(t) = tags {
            u.tags = t;
        }
        self.0.save(&ctx, "user", &id.to_string(), &u).await?;
        if let Some(x) = lock(&self.0.users).iter_mut().find(|x| x.id == id) {
            *x = u.clone();
        }
        Ok(u)
    }

    async fn delete(
        &self,
        ctx: us::DeleteContext,
        id: common::UserId,
    ) -> Result<(), us::DeleteError> {
        let emit = async |tx: Context, event: user::UserDeleted| {
            ctx.with_context(tx).emit_user_deleted(&event).await
        };
        self.remove(&ctx, emit, id, None)
            .await
            .map_err(|e| match e {
                RemoveError::NotFound(n) => n.into(),
                RemoveError::Other(o) => o.into(),
            })
    }

    async fn archive(
        &self,
        ctx: us::ArchiveContext,
        id: common::UserId,
        reason: Option<String>,
    ) -> Result<(), us::ArchiveError> {
        // Archiving removes the user from listings, as deleting does.
        let emit = async |tx: Context, event: user::UserDeleted| {
            ctx.with_context(tx).emit_user_deleted(&event).await
        };
        self.remove(&ctx, emit, id, reason)
            .await
            .map_err(|e| match e {
                RemoveError::NotFound(n) => n.into(),
                RemoveError::Other(o) => o.into(),
            })
    }
}

/// Sign-in and token refresh.
#[derive(Debug, Clone)]
pub struct Auth(pub Arc<Store>);

fn invalid_token(reason: impl Into<String>) -> auth::InvalidToken {
    auth::InvalidToken {
        reason: reason.into(),
    }
}

impl auth::AuthService for Auth {
    async fn login(
        &self,
        ctx: Context,
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
                let tokens = self.0.issue(&ctx, id, Some(&key), Uuid::new_v4()).await?;
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
        ctx: Context,
        refresh_token: String,
    ) -> Result<auth::TokenPair, RefreshError> {
        let claims = match self.0.jwt.verify(&refresh_token, TokenType::Refresh) {
            Ok(c) => c,
            Err(Refusal::Revoked) => return Err(invalid_token("the session was revoked").into()),
            Err(r) => return Err(invalid_token(r.to_string()).into()),
        };
        let family = lock(&self.0.sessions.family_of).get(&claims.jti).copied();
        let Some(family) = family else {
            return Err(invalid_token("unknown refresh token").into());
        };
        if !lock(&self.0.sessions.used).insert(claims.jti.clone()) {
            // Used twice: whoever holds this family's tokens, one of them is a thief.
            self.0
                .save(&ctx, "revoked", &family.to_string(), &true)
                .await?;
            lock(&self.0.sessions.revoked).insert(family);
            return Err(invalid_token(
                "the refresh token was already used; the session is revoked",
            )
            .into());
        }
        if let Err(e) = self.0.save(&ctx, "used", &claims.jti, &true).await {
            lock(&self.0.sessions.used).remove(&claims.jti);
            return Err(e.into());
        }
        let user_id = claims
            .sub
            .parse()
            .map_err(|_| invalid_token("the token's subject is not a user id"))?;
        Ok(self
            .0
            .issue(&ctx, user_id, claims.email.as_deref(), family)
            .await?)
    }
}

/// The signed-in caller's session.
#[derive(Debug, Clone)]
pub struct Session(pub Arc<Store>);

impl auth::SessionService for Session {
    async fn logout(
        &self,
        ctx: Context,
        _session: Option<String>,
        refresh_token: Option<String>,
    ) -> Result<(), LogoutError> {
        let claims = ctx.claims().ok_or_else(unauthenticated)?;
        self.0.revoke_family_of(&ctx, &claims.jti).await?;
        // A refresh token of another session of the same user ends that session too.
        if let Some(r) = refresh_token
            && let Ok(c) = self.0.jwt.verify(&r, TokenType::Refresh)
            && c.sub == claims.sub
        {
            self.0.revoke_family_of(&ctx, &c.jti).await?;
        }
        Ok(())
    }

    async fn whoami(
        &self,
        ctx: Context,
        _source: Option<String>,
    ) -> Result<WhoamiResponse, WhoamiError> {
        let claims = ctx.claims().ok_or_else(unauthenticated)?;
        let user_id = claims.sub.parse().map_err(|_| unauthenticated())?;
        Ok(WhoamiResponse {
            user_id,
            expires_at: Timestamp::from(claims.expires_at()),
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

    /// Changes a chat's members (and its `member_ids`): stored first, then kept in memory.
    async fn change_members(
        &self,
        ctx: &Context,
        chat_id: Uuid,
        change: impl FnOnce(&mut Vec<chat::Member>, &mut chat::Chat),
    ) -> Result<(), Error> {
        let Some(mut c) = lock(&self.0.chats)
            .iter()
            .find(|c| c.id == chat_id)
            .cloned()
        else {
            return Ok(());
        };
        let mut ms = lock(&self.0.members)
            .get(&chat_id)
            .cloned()
            .unwrap_or_default();
        change(&mut ms, &mut c);
        self.0
            .write(ctx, async |tx| self.0.save_chat(&tx, &c, &ms).await)
            .await?;
        if let Some(x) = lock(&self.0.chats).iter_mut().find(|x| x.id == chat_id) {
            *x = c;
        }
        lock(&self.0.members).insert(chat_id, ms);
        Ok(())
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
            .collect::<Vec<_>>();
        self.0
            .write(&ctx, async |tx| self.0.save_chat(&tx, &c, &members).await)
            .await?;
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
        self.change_members(&ctx, chat_id, |ms, c| {
            ms.push(m.clone());
            c.member_ids.push(user_id);
        })
        .await?;
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
        self.change_members(&ctx, chat_id, |ms, c| {
            ms.retain(|m| m.user_id != user_id);
            c.member_ids.retain(|m| *m != user_id);
        })
        .await?;
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
        self.0.save(&ctx, "message", &m.id.to_string(), &m).await?;
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
        let mut m = lock(&self.0.messages)
            .iter()
            .find(|m| m.id == message_id && m.chat_id == chat_id)
            .cloned()
            .ok_or(chat::ChatNotFound { chat_id })?;
        m.content = content;
        m.edited_at = Some(Timestamp::now());
        self.0.save(&ctx, "message", &m.id.to_string(), &m).await?;
        if let Some(x) = lock(&self.0.messages).iter_mut().find(|x| x.id == m.id) {
            *x = m.clone();
        }
        Ok(m)
    }

    async fn delete_message(
        &self,
        ctx: Context,
        chat_id: common::ChatId,
        message_id: common::MessageId,
    ) -> Result<(), cs::DeleteMessageError> {
        self.check(&ctx, chat_id)
            .map_err(|f| refuse!(DeleteMessageError, f, chat_id))?;
        self.0
            .forget(&ctx, "message", &message_id.to_string())
            .await?;
        lock(&self.0.messages).retain(|m| m.id != message_id);
        Ok(())
    }
}

/// The chat service's consumer of `user.deleted`: a deleted or archived user leaves every chat.
impl user::UserDeletedHandler for Chats {
    async fn user_deleted(&self, ctx: Context, event: user::UserDeleted) -> Result<(), Error> {
        let chats: Vec<Uuid> = lock(&self.0.chats)
            .iter()
            .filter(|c| c.member_ids.contains(&event.user_id))
            .map(|c| c.id)
            .collect();
        for chat_id in chats {
            self.change_members(&ctx, chat_id, |ms, c| {
                ms.retain(|m| m.user_id != event.user_id);
                c.member_ids.retain(|m| *m != event.user_id);
            })
            .await?;
        }
        Ok(())
    }
}
