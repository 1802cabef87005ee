-- The messenger's state: every record as a JSON document of the contract's own shape (users,
-- sign-in passwords, chats, their members, messages), in the order they were first written.
CREATE TABLE documents (
    kind text NOT NULL,
    id text NOT NULL,
    doc jsonb NOT NULL,
    seq bigserial NOT NULL,
    PRIMARY KEY (kind, id)
);
-- One account per e-mail address, whatever the case.
CREATE UNIQUE INDEX documents_user_email ON documents (lower(doc->>'email')) WHERE kind = 'user';
