SELECT [weird name], `x`, "y" FROM t WHERE a = ?1 AND b = :b /* nested /* comment */ */;
